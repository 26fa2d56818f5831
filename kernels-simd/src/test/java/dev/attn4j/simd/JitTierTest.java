package dev.attn4j.simd;

import static dev.attn4j.simd.Parity.SEED;
import static dev.attn4j.simd.Parity.randn;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.attn4j.api.AttentionProblem;
import dev.attn4j.api.GeluApproximation;
import dev.attn4j.api.Kernels;
import dev.attn4j.api.Mask;
import dev.attn4j.api.ScoreFunction;
import dev.attn4j.api.ScoreStage;
import dev.attn4j.api.Tensor;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Results do not depend on the JIT: the interpreter ({@code -Xint}, where every Vector API operation runs
 * its Java fallback) and C2-compiled code give the same bits for the kernels that use elementary
 * functions or horizontal sums. {@code VectorOperators.TANH} and {@code reduceLanes(ADD)} broke this (C2
 * uses a vector math library and a tree order), so an attention with softcap changed in the last bit
 * between the first calls of a process and later ones.
 */
class JitTierTest {

    /** Bits of every kernel output, by name: computed here after warm-up and in an {@code -Xint} child. */
    static Map<String, Integer> digests(Kernels simd) {
        Random rnd = new Random(SEED + 77);
        Map<String, Integer> out = new LinkedHashMap<>();
        // prefill with softcap and an additive mask; two query tiles are fewer than FlashConfig's 16 items, so
        // 600 keys split in two (600 / 256) and the partials are merged: the case CI first failed on
        AttentionProblem prefill = AttentionProblem.of(1, 2, 1, 17, 600, 32).withSoftcap(4f);
        Tensor q = Tensor.of(randn(rnd, 17 * 2 * 32, 3f), prefill.qShape());
        Tensor k = Tensor.of(randn(rnd, 600 * 32, 1f), prefill.kShape());
        Tensor v = Tensor.of(randn(rnd, 600 * 32, 1f), prefill.vShape());
        Mask additive = Mask.additive(Tensor.of(randn(rnd, 17 * 600, 2f), 1, 1, 17, 600));
        Tensor o = Tensor.zeros(prefill.outShape());
        simd.attention(prefill, q, k, v, additive, o);
        out.put("attention softcap", Arrays.hashCode(o.toFloatArray()));
        // decode with softcap (row softmax path)
        AttentionProblem decode = AttentionProblem.of(1, 2, 1, 1, 600, 32).withSoftcap(4f);
        Tensor qd = Tensor.of(randn(rnd, 2 * 32, 3f), decode.qShape());
        Tensor od = Tensor.zeros(decode.outShape());
        simd.attention(decode, qd, k, v, Mask.none(), od);
        out.put("decode softcap", Arrays.hashCode(od.toFloatArray()));
        // softcapped score matrix
        Tensor s = Tensor.zeros(1, 2, 17, 600);
        simd.scores(prefill, q, k, Mask.none(), ScoreStage.SOFTCAPPED, s);
        out.put("scores softcap", Arrays.hashCode(s.toFloatArray()));
        // cosine scores (row norms by a horizontal sum)
        AttentionProblem cos = AttentionProblem.of(1, 1, 1, 9, 50, 37);
        Tensor sc = Tensor.zeros(1, 1, 9, 50);
        simd.scores(cos, ScoreFunction.cosine(), Tensor.of(randn(rnd, 9 * 37, 1f), cos.qShape()),
                Tensor.of(randn(rnd, 50 * 37, 1f), cos.kShape()), Mask.none(), ScoreStage.SCALED, sc);
        out.put("cosine scores", Arrays.hashCode(sc.toFloatArray()));
        // GELU with the tanh approximation
        Tensor x = Tensor.of(randn(rnd, 3 * 101, 2f), 3, 101);
        Tensor y = Tensor.zeros(3, 101);
        simd.gelu(x, GeluApproximation.TANH, y);
        out.put("gelu tanh", Arrays.hashCode(y.toFloatArray()));
        return out;
    }

    /** The child: prints the digests, one "name=value" per line. */
    public static void main(String[] args) {
        digests(Parity.SIMD).forEach((name, h) -> System.out.println(name + "=" + h));
    }

    @Test
    void interpreterAndCompiledCodeAgree() throws IOException, InterruptedException {
        Map<String, Integer> compiled = null;
        for (int i = 0; i < 300; i++) {
            compiled = digests(Parity.SIMD);
        }
        String java = ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> cmd = new ArrayList<>(List.of(java, "-Xint", "--add-modules=jdk.incubator.vector",
                "-cp", System.getProperty("java.class.path")));
        String bits = System.getProperty("attn4j.simd.bits");
        if (bits != null) {
            cmd.add("-Dattn4j.simd.bits=" + bits);
        }
        cmd.add(JitTierTest.class.getName());
        Process child = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String text = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(child.waitFor(5, TimeUnit.MINUTES), "the -Xint child did not finish");
        assertEquals(0, child.exitValue(), text);
        Map<String, Integer> interpreted = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0 && !line.startsWith("WARNING")) {
                interpreted.put(line.substring(0, eq), Integer.parseInt(line.substring(eq + 1).trim()));
            }
        }
        assertEquals(compiled, interpreted, "interpreter (-Xint) against compiled code; child said:\n" + text);
    }
}
