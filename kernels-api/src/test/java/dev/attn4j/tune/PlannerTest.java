package dev.attn4j.tune;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The planner's rules: ESTIMATE never times, wrong candidates are dropped, wisdom makes a second plan free. */
class PlannerTest {

    /** Candidates are amounts of busy work; candidate 13 computes a wrong answer. */
    static final class Busy implements Tunable<Integer> {
        final List<Integer> ran = new ArrayList<>();
        final int estimate;

        Busy(int estimate) {
            this.estimate = estimate;
        }

        @Override
        public String backend() {
            return "test";
        }

        @Override
        public ProblemClass problemClass() {
            return new ProblemClass("busy", "f32", 1, 1, 1, "none", "bhsd");
        }

        @Override
        public Integer estimate() {
            return estimate;
        }

        @Override
        public List<Integer> candidates(boolean exhaustive) {
            return exhaustive ? List.of(1, 13, 40, 400) : List.of(13, 400);
        }

        @Override
        public String encode(Integer config) {
            return "n" + config;
        }

        @Override
        public Integer decode(String token) {
            return Integer.parseInt(token.substring(1));
        }

        @Override
        public void check(Integer config) {
            if (config == 13) {
                throw new AssertionError("candidate 13 is wrong by design");
            }
        }

        @Override
        public void run(Integer config) {
            ran.add(config);
            double x = 0;
            for (int i = 0; i < config * 20_000; i++) {
                x += Math.sqrt(i);
            }
            if (x == -1) {
                throw new IllegalStateException();
            }
        }
    }

    @Test
    void estimateNeverTimes() {
        Busy t = new Busy(40);
        Planner.Plan<Integer> plan = Planner.plan(t, TuningMode.ESTIMATE, null, 1, null);
        assertEquals(40, plan.config());
        assertTrue(t.ran.isEmpty());
        assertEquals(0, plan.timedRuns());
    }

    @Test
    void wrongCandidatesAreDroppedAndWisdomMakesTheSecondPlanFree() {
        Wisdom w = Wisdom.inMemory(WisdomTest.HERE);
        Busy t = new Busy(400);
        Planner.Plan<Integer> plan = Planner.plan(t, TuningMode.EXHAUSTIVE, w, 1.0, null);
        assertFalse(t.ran.contains(13), "a candidate that fails its check is never timed");
        assertNotEquals(13, plan.config());
        assertTrue(plan.measurements().stream().anyMatch(m -> m.failure() != null && m.config().equals("n13")));
        // 1 does a 400th of the estimate's work: no noise on this machine hides that
        assertEquals(1, plan.config());
        assertTrue(plan.chosenNanos() < plan.estimateNanos());
        Busy again = new Busy(400);
        Planner.Plan<Integer> second = Planner.plan(again, TuningMode.MEASURE, w, 1.0, null);
        assertTrue(second.fromWisdom());
        assertEquals(0, second.timedRuns());
        assertTrue(again.ran.isEmpty());
        assertEquals(1, second.config());
    }
}
