package dev.attn4j.tune;

import dev.attn4j.api.AttentionProblem;
import dev.attn4j.api.Mask;
import dev.attn4j.api.Tensor;
import java.util.Objects;

/**
 * The class of problems one tuned configuration serves: kernel, dtype, head dim, sequence-length
 * buckets, mask kind and layout. Problems of one class share a configuration.
 *
 * @param kernel   kernel name, e.g. "attention"
 * @param dtype    element type, e.g. "f32"
 * @param headDim  head dim (or K of a GEMM)
 * @param seqQ     query length bucket: the next power of two
 * @param seqK     key length bucket: the next power of two
 * @param mask     mask kind: none, causal, window, keys, dense or composite
 * @param layout   memory layout, e.g. "bhsd", "bshd", "strided"
 */
public record ProblemClass(String kernel, String dtype, int headDim, int seqQ, int seqK, String mask, String layout) {

    /** Requires names without separators. */
    public ProblemClass {
        for (String s : new String[] {kernel, dtype, mask, layout}) {
            Objects.requireNonNull(s);
            if (s.contains("\t") || s.contains("\n") || s.contains("/")) {
                throw new IllegalArgumentException("problem class parts must not contain tab, newline or '/': " + s);
            }
        }
    }

    /** The class of an attention problem. */
    public static ProblemClass attention(AttentionProblem p, Mask mask, String layout) {
        return new ProblemClass("attention", "f32", p.headDim(), bucket(p.seqQ()), bucket(p.seqK()), maskKind(mask), layout);
    }

    /**
     * The layout label of a logical [B, H, S, D] operand, one vocabulary for every backend: {@code bhsd}
     * (contiguous), {@code bshd} (heads interleaved per position) or {@code strided} (anything else).
     */
    public static String layout(Tensor t) {
        if (t.isContiguous()) {
            return "bhsd";
        }
        long d = t.dim(3);
        long h = t.dim(1);
        return t.stride(3) == 1 && t.stride(1) == d && t.stride(2) == h * d ? "bshd" : "strided";
    }

    /** The next power of two at or above {@code n} (≥ 1). */
    public static int bucket(int n) {
        return n <= 1 ? 1 : Integer.highestOneBit(n - 1) << 1;
    }

    /** The mask kind a kernel's tiling depends on. */
    public static String maskKind(Mask mask) {
        var parts = mask.parts();
        if (parts.isEmpty()) {
            return "none";
        }
        if (parts.size() > 1) {
            return "composite";
        }
        return switch (parts.get(0)) {
            case Mask.Causal c -> "causal";
            case Mask.SlidingWindow w -> "window";
            case Mask.KeyLengths k -> "keys";
            case Mask.BoolMask b -> "dense";
            case Mask.AdditiveMask a -> "dense";
            default -> "none";
        };
    }

    /** One token, used as the key in the wisdom file. */
    public String key() {
        return kernel + "/" + dtype + "/d" + headDim + "/q" + seqQ + "/k" + seqK + "/" + mask + "/" + layout;
    }

    /** Parses {@link #key()}. */
    public static ProblemClass parse(String key) {
        String[] p = key.split("/");
        if (p.length != 7 || !p[2].startsWith("d") || !p[3].startsWith("q") || !p[4].startsWith("k")) {
            throw new IllegalArgumentException("not a problem class: " + key);
        }
        return new ProblemClass(p[0], p[1], Integer.parseInt(p[2].substring(1)), Integer.parseInt(p[3].substring(1)),
                Integer.parseInt(p[4].substring(1)), p[5], p[6]);
    }
}
