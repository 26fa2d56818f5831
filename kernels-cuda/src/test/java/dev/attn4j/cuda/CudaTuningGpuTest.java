package dev.attn4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.attn4j.api.Attn4j;
import dev.attn4j.api.AttentionProblem;
import dev.attn4j.api.Kernels;
import dev.attn4j.api.Mask;
import dev.attn4j.spi.Availability;
import dev.attn4j.tune.Fingerprint;
import dev.attn4j.tune.Planner;
import dev.attn4j.tune.Tunable;
import dev.attn4j.tune.TuneRequest;
import dev.attn4j.tune.TuningMode;
import dev.attn4j.tune.Wisdom;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** MEASURE on a real GPU: every candidate passes its reference check and the plan is remembered; skipped without CUDA. */
class CudaTuningGpuTest {

    @BeforeEach
    void requireCuda() {
        Availability a = new CudaBackendProvider().probe();
        assumeTrue(a.available(), a.reason());
    }

    @Test
    void measurePlansPrefillAndDecodeOnTheDevice() {
        Kernels k = Attn4j.kernels(CudaBackendProvider.NAME);
        assertEquals(CudaBackendProvider.NAME, k.backendName());
        // an in-memory wisdom: the test never writes the user's file
        Wisdom wisdom = Wisdom.inMemory(Fingerprint.current(0, "test"));
        List<TuneRequest> requests = List.of(
                TuneRequest.attention(AttentionProblem.of(1, 8, 8, 512, 512, 64), Mask.causalTopLeft()),
                TuneRequest.attention(AttentionProblem.of(1, 32, 8, 1, 4096, 128), Mask.none()),
                TuneRequest.attention(AttentionProblem.of(1, 4, 4, 128, 256, 320), Mask.none()));
        for (TuneRequest r : requests) {
            List<Tunable<?>> tunables = k.backend().tunables(r);
            assertEquals(2, tunables.size(), r.label());
            for (Tunable<?> t : tunables) {
                Planner.Plan<?> plan = Planner.plan(t, TuningMode.MEASURE, wisdom, 1.5, null);
                assertFalse(plan.fromWisdom());
                assertTrue(plan.measurements().stream().allMatch(m -> m.failure() == null),
                        t.problemClass().key() + ": " + plan.measurements());
                assertTrue(plan.chosenNanos() > 0, plan.toString());
                assertTrue(Planner.plan(t, TuningMode.MEASURE, wisdom, 1.5, null).fromWisdom());
                System.getLogger("dev.attn4j.cuda").log(System.Logger.Level.INFO, t.problemClass().key() + " -> "
                        + plan.encoded() + " (" + Math.round(plan.estimateNanos() / 1e3) + " µs estimate, "
                        + Math.round(plan.chosenNanos() / 1e3) + " µs chosen)");
            }
        }
    }
}
