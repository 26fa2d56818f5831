package dev.attn4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.attn4j.api.Alignment;
import dev.attn4j.api.AttentionProblem;
import dev.attn4j.api.Mask;
import dev.attn4j.api.MaskEvaluator;
import dev.attn4j.api.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The interval the kernels compute from the lowered mask equals MaskEvaluator's, row by row. */
class MaskLoweringTest {

    @Test
    void structuredMasksGiveTheEvaluatorsIntervals() {
        long seed = 20261122L;
        Random rnd = new Random(seed);
        for (int trial = 0; trial < 400; trial++) {
            int batch = 1 + rnd.nextInt(3);
            int seqQ = 1 + rnd.nextInt(40);
            int seqK = 1 + rnd.nextInt(40);
            AttentionProblem p = AttentionProblem.of(batch, 2, 1, seqQ, seqK, 8);
            Mask mask = randomMask(rnd, batch, seqQ, seqK);
            MaskEvaluator e = MaskEvaluator.of(p, mask);
            MaskLowering m = MaskLowering.of(p, mask);
            for (int b = 0; b < batch; b++) {
                for (int i = 0; i < seqQ; i++) {
                    String where = "seed " + seed + " trial " + trial + " " + mask + " b=" + b + " i=" + i;
                    int begin = e.keyBegin(b, i);
                    int end = e.keyEnd(b, i);
                    if (end > begin) {
                        assertEquals(begin, m.keyBegin(b, i, seqK), where);
                        assertEquals(end, m.keyEnd(b, i, seqK), where);
                    } else {
                        // both say "no key": the kernels see an empty range
                        assertEquals(true, m.keyEnd(b, i, seqK) <= m.keyBegin(b, i, seqK), where);
                    }
                }
            }
        }
    }

    @Test
    void denseTermsAreBroadcastToTheScoreShape() {
        AttentionProblem p = AttentionProblem.of(2, 3, 3, 4, 5, 8);
        Mask mask = Mask.all(Mask.bool(Tensor.ofBooleans(new boolean[5], 5)), Mask.additive(Tensor.zeros(4, 5)),
                Mask.causalTopLeft());
        MaskLowering m = MaskLowering.of(p, mask);
        assertEquals(1, m.boolTerms().size());
        assertEquals(1, m.addTerms().size());
        assertEquals(List.of(0L, 0L, 0L, 1L), toList(m.boolTerms().get(0).strides()));
        assertEquals(List.of(0L, 0L, 5L, 1L), toList(m.addTerms().get(0).strides()));
        assertEquals(null, m.lo());
        assertEquals(null, m.lim());
    }

    private static List<Long> toList(long[] a) {
        List<Long> l = new ArrayList<>();
        for (long x : a) {
            l.add(x);
        }
        return l;
    }

    private static Mask randomMask(Random rnd, int batch, int seqQ, int seqK) {
        List<Mask> parts = new ArrayList<>();
        int kinds = 1 + rnd.nextInt(3);
        for (int n = 0; n < kinds; n++) {
            switch (rnd.nextInt(4)) {
                case 0 -> parts.add(Mask.causal(alignment(rnd, batch)));
                case 1 -> parts.add(Mask.slidingWindow(rnd.nextBoolean() ? Integer.MAX_VALUE : rnd.nextInt(8),
                        rnd.nextBoolean() ? Integer.MAX_VALUE : rnd.nextInt(8), alignment(rnd, batch)));
                case 2 -> {
                    int[] lengths = new int[batch];
                    for (int b = 0; b < batch; b++) {
                        lengths[b] = rnd.nextInt(seqK + 1);
                    }
                    parts.add(Mask.keyLengths(lengths));
                }
                default -> parts.add(Mask.none());
            }
        }
        return Mask.all(parts.toArray(Mask[]::new));
    }

    private static Alignment alignment(Random rnd, int batch) {
        return switch (rnd.nextInt(4)) {
            case 0 -> Alignment.topLeft();
            case 1 -> Alignment.bottomRight();
            case 2 -> Alignment.fixed(rnd.nextInt(21) - 10);
            default -> {
                int[] offsets = new int[batch];
                for (int b = 0; b < batch; b++) {
                    offsets[b] = rnd.nextInt(41) - 20;
                }
                yield Alignment.perBatch(offsets);
            }
        };
    }
}
