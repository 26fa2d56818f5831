package dev.attn4j.api;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.attn4j.reference.ReferenceBackend;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** The literature family's arguments are refused at the API edge with a message naming them, and nothing is written. */
class ClassicValidationTest {
    private static final Kernels K = Kernels.of(new ReferenceBackend());
    private static final AttentionProblem P = AttentionProblem.of(2, 4, 2, 5, 6, 8);

    private static Tensor sentinelOut() {
        float[] data = new float[(int) Tensor.count(P.outShape())];
        Arrays.fill(data, 42f);
        return Tensor.of(data, P.outShape());
    }

    private static void refused(Executable call, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "message <" + e.getMessage() + "> should contain <" + f + ">");
        }
    }

    private static void untouched(Tensor out) {
        for (float x : out.toFloatArray()) {
            assertTrue(x == 42f, "nothing may be written when a check fails");
        }
    }

    @Test
    void scoreFunctionWeightsAreCheckedAgainstTheProblem() {
        Tensor q = Tensor.zeros(P.qShape());
        Tensor k = Tensor.zeros(P.kShape());
        Tensor v = Tensor.zeros(P.vShape());
        Tensor out = sentinelOut();
        refused(() -> K.attention(P, ScoreFunction.general(Tensor.zeros(8, 7)), q, k, v, Mask.none(), out),
                "general score weight w of shape [8, 7] must broadcast to [4, 8, 8]");
        refused(() -> K.attention(P, ScoreFunction.general(Tensor.zeros(3, 8, 8)), q, k, v, Mask.none(), out),
                "must broadcast to [4, 8, 8]");
        refused(() -> K.attention(P, ScoreFunction.additive(Tensor.zeros(5, 8), Tensor.zeros(5, 9), Tensor.zeros(5)), q, k, v,
                Mask.none(), out), "additive score weight w2 of shape [5, 9] must broadcast to [4, 5, 8]");
        refused(() -> K.attention(P, ScoreFunction.additive(Tensor.zeros(5, 8), Tensor.zeros(5, 8), Tensor.zeros(6)), q, k, v,
                Mask.none(), out), "additive score vector v of shape [6] must broadcast to [4, 5]");
        refused(() -> ScoreFunction.general(Tensor.zeros(8)), "rank 2 [headDim, headDim]");
        refused(() -> ScoreFunction.cosine(0f), "cosine eps must be finite and > 0 but is 0.0");
        refused(() -> K.attention(P, ScoreFunction.cosine(), q, Tensor.zeros(2, 2, 7, 8), v, Mask.none(), out),
                "k must have shape [batch=2, kvHeads=2, seqK=6, headDim=8] but has [2, 2, 7, 8]");
        untouched(out);
    }

    @Test
    void outputsMustNotOverlapWeights() {
        float[] shared = new float[(int) Tensor.count(P.outShape())];
        Tensor out = Tensor.of(shared, P.outShape());
        Tensor w = Tensor.of(shared, 8, 8);
        refused(() -> K.attention(P, ScoreFunction.general(w), Tensor.zeros(P.qShape()), Tensor.zeros(P.kShape()),
                Tensor.zeros(P.vShape()), Mask.none(), out), "out must not overlap a score function weight");
    }

    @Test
    void hardAndLocalArgumentsAreChecked() {
        Tensor q = Tensor.zeros(P.qShape());
        Tensor k = Tensor.zeros(P.kShape());
        Tensor v = Tensor.zeros(P.vShape());
        Tensor out = sentinelOut();
        refused(() -> K.topKAttention(P, ScoreFunction.dot(), q, k, v, Mask.none(), 0, out, null),
                "topK must be in [1, seqK=6] but is 0");
        refused(() -> K.topKAttention(P, ScoreFunction.dot(), q, k, v, Mask.none(), 7, out, null), "but is 7");
        refused(() -> K.topKAttention(P, ScoreFunction.dot(), q, k, v, Mask.none(), 2, out, new int[3]),
                "indices must have batch·heads·seqQ·topK = 80 entries but has 3");
        refused(() -> K.sampledAttention(P, ScoreFunction.dot(), q, k, v, Mask.none(), 1L, out, new int[39]),
                "indices must have batch·heads·seqQ = 40 entries but has 39");
        refused(() -> new LocalP(Tensor.zeros(3, 8), Tensor.zeros(3), 0), "halfWidth D must be >= 1");
        refused(() -> K.localPAttention(P, ScoreFunction.dot(), new LocalP(Tensor.zeros(3, 7), Tensor.zeros(3), 2), q, k, v,
                Mask.none(), out, null), "local-p weight wp of shape [3, 7] must broadcast to [4, 3, 8]");
        refused(() -> K.localPAttention(P, ScoreFunction.dot(), new LocalP(Tensor.zeros(3, 8), Tensor.zeros(3), 2), q, k, v,
                Mask.none(), out, Tensor.zeros(2, 4)), "centres must have shape [batch=2, heads=4, seqQ=5] but has [2, 4]");
        refused(() -> LocalP.localM(-1), "local-m halfWidth D must be >= 0");
        untouched(out);
    }

    @Test
    void blockPartsAreChecked() {
        refused(() -> K.addSinusoidal(Tensor.zeros(2, 3), 0, Tensor.zeros(2, 3)), "x must have rank 3 but has shape [2, 3]");
        refused(() -> K.addSinusoidal(Tensor.zeros(1, 2, 3), -1, Tensor.zeros(1, 2, 3)), "offset must be >= 0 but is -1");
        refused(() -> K.add(Tensor.zeros(2, 3), Tensor.zeros(2), Tensor.zeros(2, 3)), "b of shape [2] must broadcast to [2, 3]");
        float[] storage = new float[7];
        Tensor a = Tensor.view(storage, 0, new int[] {2, 3}, new long[] {3, 1});
        refused(() -> K.add(a, Tensor.zeros(3), Tensor.view(storage, 1, new int[] {2, 3}, new long[] {3, 1})),
                "y must be a itself (in place) or not overlap it");
        refused(() -> K.linearResidual(Tensor.zeros(4, 5), Tensor.zeros(3, 5), null, Tensor.zeros(4, 2), Tensor.zeros(4, 3)),
                "residual must have shape [M=x.dim(0)=4, N=w.dim(0)=3] but has [4, 2]");
        float[] big = new float[40];
        Tensor res = Tensor.view(big, 0, new int[] {4, 3}, new long[] {3, 1});
        refused(() -> K.linearResidual(Tensor.zeros(4, 5), Tensor.zeros(3, 5), null, res,
                Tensor.view(big, 1, new int[] {4, 3}, new long[] {3, 1})), "y must be residual itself (in place) or not overlap it");
    }
}
