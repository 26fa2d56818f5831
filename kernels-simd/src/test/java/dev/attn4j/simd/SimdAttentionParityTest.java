package dev.attn4j.simd;

import static dev.attn4j.simd.Parity.REFERENCE;
import static dev.attn4j.simd.Parity.SEED;
import static dev.attn4j.simd.Parity.SIMD;
import static dev.attn4j.simd.Parity.assertClose;
import static dev.attn4j.simd.Parity.randn;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.attn4j.api.Alignment;
import dev.attn4j.api.AttentionProblem;
import dev.attn4j.api.DType;
import dev.attn4j.api.Kernels;
import dev.attn4j.api.Mask;
import dev.attn4j.api.Tensor;
import dev.attn4j.testing.Fixtures;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Executors;
import java.util.concurrent.ExecutorService;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Fused attention of the simd backend against the float64 reference: sizes that are not multiples of
 * the vector length, odd head dims, every mask kind and compositions, both layouts, packed QKV,
 * off-heap views, GQA/MQA, decode splits, softcap, extreme logits and fully masked rows.
 */
class SimdAttentionParityTest {
    /** max |Δ| ≤ TOL·max(1, |ref|) for outputs and lse. */
    static final double TOL = 1e-5;

    static final int[] SIZES = {1, 3, 7, 15, 16, 17, 31, 33, 63, 65, 127, 129};
    static final int[] HEAD_DIMS = {1, 8, 40, 59, 64, 80, 111, 128, 256};

    /** A complete problem: inputs in a chosen layout, the mask, and whether to compare lse. */
    record Case(String name, AttentionProblem p, Tensor q, Tensor k, Tensor v, Mask mask) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Case bhsd(String name, AttentionProblem p, Random rnd, float qScale, Mask mask) {
        Tensor q = Tensor.of(randn(rnd, (int) Tensor.count(p.qShape()), qScale), p.qShape());
        Tensor k = Tensor.of(randn(rnd, (int) Tensor.count(p.kShape()), 1f), p.kShape());
        Tensor v = Tensor.of(randn(rnd, (int) Tensor.count(p.vShape()), 1f), p.vShape());
        return new Case(name, p, q, k, v, mask);
    }

    static Mask boolMask(Random rnd, int[] shape, double pTrue) {
        boolean[] m = new boolean[(int) Tensor.count(shape)];
        for (int i = 0; i < m.length; i++) {
            m[i] = rnd.nextDouble() < pTrue;
        }
        return Mask.bool(Tensor.ofBooleans(m, shape));
    }

    static Mask additiveMask(Random rnd, int[] shape, float scale, double pNegInf) {
        float[] m = randn(rnd, (int) Tensor.count(shape), scale);
        for (int i = 0; i < m.length; i++) {
            if (rnd.nextDouble() < pNegInf) {
                m[i] = Float.NEGATIVE_INFINITY;
            }
        }
        return Mask.additive(Tensor.of(m, shape));
    }

    static Stream<Case> cases() {
        Random rnd = new Random(SEED);
        List<Case> list = new ArrayList<>();
        for (int s : SIZES) {
            list.add(bhsd("square S=" + s, AttentionProblem.of(1, 2, 2, s, s, 64), rnd, 1f, Mask.none()));
            list.add(bhsd("causal S=" + s, AttentionProblem.of(1, 2, 2, s, s, 64), rnd, 1f, Mask.causalTopLeft()));
            list.add(bhsd("rect Sq=" + s + " Sk=" + (2 * s + 5), AttentionProblem.of(2, 1, 1, s, 2 * s + 5, 32), rnd, 1f,
                    Mask.causalBottomRight()));
        }
        for (int d : HEAD_DIMS) {
            list.add(bhsd("headDim=" + d, AttentionProblem.of(1, 2, 1, 33, 47, d), rnd, 1f, Mask.none()));
            list.add(bhsd("headDim=" + d + " causal", AttentionProblem.of(1, 1, 1, 65, 65, d), rnd, 1f, Mask.causalTopLeft()));
        }
        list.add(bhsd("Dv != D", AttentionProblem.of(1, 2, 2, 37, 51, 40).withValueDim(24), rnd, 1f, Mask.none()));
        list.add(bhsd("long row S=1021", AttentionProblem.of(1, 1, 1, 1021, 1021, 64), rnd, 1f, Mask.causalTopLeft()));
        list.add(bhsd("GQA 6/2", AttentionProblem.of(2, 6, 2, 45, 45, 16), rnd, 1f, Mask.causalTopLeft()));
        list.add(bhsd("MQA 4/1", AttentionProblem.of(1, 4, 1, 17, 70, 16), rnd, 1f, Mask.none()));
        AttentionProblem p = AttentionProblem.of(2, 2, 1, 40, 53, 24);
        int[] scoreShape = p.scoreShape();
        list.add(bhsd("window 5/3", p, rnd, 1f, Mask.slidingWindow(5, 3, Alignment.topLeft())));
        list.add(bhsd("window left only", p, rnd, 1f, Mask.slidingWindow(7, Integer.MAX_VALUE, Alignment.bottomRight())));
        list.add(bhsd("key lengths", p, rnd, 1f, Mask.keyLengths(29, 53)));
        list.add(bhsd("key length 0 (fully masked batch)", p, rnd, 1f, Mask.keyLengths(0, 17)));
        list.add(bhsd("causal fixed -5 (first rows fully masked)", p, rnd, 1f, Mask.causal(Alignment.fixed(-5))));
        list.add(bhsd("causal per batch", p, rnd, 1f, Mask.causal(Alignment.perBatch(3, 20))));
        list.add(bhsd("bool mask", p, rnd, 1f, boolMask(rnd, scoreShape, 0.7)));
        list.add(bhsd("bool mask broadcast [Sq,Sk]", p, rnd, 1f, boolMask(rnd, new int[] {40, 53}, 0.5)));
        list.add(bhsd("bool mask mostly false", p, rnd, 1f, boolMask(rnd, new int[] {2, 1, 40, 53}, 0.03)));
        list.add(bhsd("additive mask", p, rnd, 1f, additiveMask(rnd, scoreShape, 2f, 0.1)));
        list.add(bhsd("additive broadcast [1,2,1,Sk]", p, rnd, 1f, additiveMask(rnd, new int[] {1, 2, 1, 53}, 1f, 0.2)));
        list.add(bhsd("causal + key lengths + bool", p, rnd, 1f,
                Mask.all(Mask.causalBottomRight(), Mask.keyLengths(30, 50), boolMask(rnd, scoreShape, 0.8))));
        list.add(bhsd("window + additive + additive", p, rnd, 1f,
                Mask.all(Mask.slidingWindow(9, 0, Alignment.topLeft()), additiveMask(rnd, scoreShape, 1f, 0.05),
                        additiveMask(rnd, new int[] {53}, 1f, 0.0))));
        list.add(bhsd("extreme logits (q·100)", AttentionProblem.of(1, 2, 2, 33, 65, 16), rnd, 100f, Mask.causalTopLeft()));
        list.add(bhsd("additive ±1e4", p, rnd, 1f, additiveMask(rnd, scoreShape, 1e4f, 0.1)));
        list.add(bhsd("softcap", AttentionProblem.of(1, 2, 2, 33, 40, 32).withSoftcap(2.5f), rnd, 3f, Mask.none()));
        list.add(bhsd("softcap + causal + additive", AttentionProblem.of(1, 2, 2, 33, 40, 32).withSoftcap(5f), rnd, 3f,
                Mask.all(Mask.causalTopLeft(), additiveMask(rnd, new int[] {1, 2, 33, 40}, 1f, 0.1))));
        list.add(bhsd("scale 0.3", AttentionProblem.of(1, 1, 1, 20, 20, 8).withScale(0.3f), rnd, 1f, Mask.none()));
        // ≥ 64 query tiles in all: several query tiles share each K/V pass (FlashConfig.queryTilesPerItem)
        AttentionProblem grouped = AttentionProblem.of(1, 4, 2, 600, 600, 32);
        list.add(bhsd("grouped tiles causal", grouped, rnd, 1f, Mask.causalTopLeft()));
        list.add(bhsd("grouped tiles window + bool", grouped, rnd, 1f,
                Mask.all(Mask.slidingWindow(100, 20, Alignment.topLeft()), boolMask(rnd, new int[] {600, 600}, 0.9))));
        list.add(bhsd("grouped tiles rect BR + lengths", AttentionProblem.of(2, 2, 2, 300, 700, 16), rnd, 1f,
                Mask.all(Mask.causalBottomRight(), Mask.keyLengths(650, 200))));
        // no diagonal mask, ≥ 512 keys: Bk 512 and as many of a head's query tiles per K/V pass as balance allows,
        // the last tile of each head partial
        list.add(bhsd("grouped wide tiles GQA 2/1 lengths + bool", AttentionProblem.of(1, 2, 1, 1000, 600, 32), rnd, 1f,
                Mask.all(Mask.keyLengths(555), boolMask(rnd, new int[] {1000, 600}, 0.9))));
        // prefill with few query tiles against long keys: each tile's keys split across items, partial (m, l, O)
        // merged through their log-sum-exps (the tiles' maxima are in log₂ units, decode's natural)
        list.add(bhsd("prefill key split Sq=40 Sk=1500 causal BR + lengths", AttentionProblem.of(1, 2, 2, 40, 1500, 48),
                rnd, 3f, Mask.all(Mask.causalBottomRight(), Mask.keyLengths(1300))));
        list.add(bhsd("prefill key split GQA 4/2 softcap + additive", AttentionProblem.of(1, 4, 2, 17, 1100, 32).withSoftcap(4f),
                rnd, 3f, additiveMask(rnd, new int[] {1, 1, 17, 1100}, 2f, 0.1)));
        list.add(bhsd("decode Sq=1 Sk=4093", AttentionProblem.of(1, 2, 1, 1, 4093, 64), rnd, 1f, Mask.none()));
        list.add(bhsd("decode Sq=3 Sk=2000 causal BR + lengths", AttentionProblem.of(2, 2, 2, 3, 2000, 40), rnd, 1f,
                Mask.all(Mask.causalBottomRight(), Mask.keyLengths(1500, 700))));
        list.add(bhsd("decode fully masked", AttentionProblem.of(1, 1, 1, 2, 1000, 8), rnd, 1f, Mask.keyLengths(0)));
        // GQA decode: four query heads at a time share each K/V vector (DecodeBlocks.*4), the rest one by one
        list.add(bhsd("decode GQA 6/1 Sq=3 D=37 Dv=21 causal BR + lengths",
                AttentionProblem.of(2, 6, 1, 3, 1500, 37).withValueDim(21), rnd, 1f,
                Mask.all(Mask.causalBottomRight(), Mask.keyLengths(1400, 333))));
        list.add(bhsd("decode GQA 8/2 D=256 (q·10)", AttentionProblem.of(1, 8, 2, 1, 2500, 256), rnd, 10f, Mask.none()));
        // one query row of groups of four heads, K in quarters at 512 bits (DecodeBlocks.scoresQuarters): eight
        // heads per K/V head, key lengths ending past and inside the first block; exactly one block of keys
        list.add(bhsd("decode GQA 8/1 D=96 lengths", AttentionProblem.of(2, 8, 1, 1, 1000, 96), rnd, 1f,
                Mask.keyLengths(1000, 70)));
        list.add(bhsd("decode GQA 4/1 D=32 Sk=64", AttentionProblem.of(1, 4, 1, 1, 64, 32), rnd, 1f, Mask.none()));
        // several query rows: key tiles of 512, quarters within each (a last tile of 76 keys: a block and 12)
        list.add(bhsd("decode GQA 4/1 Sq=4 D=128 causal BR + lengths", AttentionProblem.of(1, 4, 1, 4, 1300, 128), rnd,
                1f, Mask.all(Mask.causalBottomRight(), Mask.keyLengths(1100))));
        list.add(bhsd("decode GQA 4/1 extreme logits (q·100)", AttentionProblem.of(1, 4, 1, 1, 600, 16), rnd, 100f,
                Mask.none()));
        // (±100, not ±1e4: float32 holds s + b to ½ ulp(1e4) ≈ 5e-4, which moves the weights of keys whose
        // biases differ by a few units by ≈ 5e-4 relative, in any float32 kernel; the old decode path too)
        list.add(bhsd("decode GQA 4/1 Sq=2 Dv=96 additive ±100", AttentionProblem.of(1, 4, 1, 2, 777, 48).withValueDim(96),
                rnd, 1f, additiveMask(rnd, new int[] {1, 4, 2, 777}, 100f, 0.1)));
        boolean[] oneHeadMasked = new boolean[4 * 1200];
        for (int i = 0; i < oneHeadMasked.length; i++) {
            oneHeadMasked[i] = i / 1200 != 2 && rnd.nextDouble() < 0.7;
        }
        list.add(bhsd("decode GQA 4/1, one head fully masked", AttentionProblem.of(1, 4, 1, 1, 1200, 64), rnd, 1f,
                Mask.bool(Tensor.ofBooleans(oneHeadMasked, 1, 4, 1, 1200))));
        return list.stream();
    }

    static void check(Case c, Kernels simd) {
        AttentionProblem p = c.p();
        Tensor outRef = Tensor.zeros(p.outShape());
        Tensor lseRef = Tensor.zeros(p.batch(), p.heads(), p.seqQ());
        REFERENCE.attention(p, c.q(), c.k(), c.v(), c.mask(), outRef, lseRef);
        Tensor out = Tensor.zeros(p.outShape());
        Tensor lse = Tensor.zeros(p.batch(), p.heads(), p.seqQ());
        simd.attention(p, c.q(), c.k(), c.v(), c.mask(), out, lse);
        assertClose(c.name() + " out", outRef, out, TOL);
        assertClose(c.name() + " lse", lseRef, lse, TOL);
        Tensor out2 = Tensor.zeros(p.outShape());
        simd.attention(p, c.q(), c.k(), c.v(), c.mask(), out2);
        assertArrayEquals(out.toFloatArray(), out2.toFloatArray(), c.name() + ": lse changed the output");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matchesReference(Case c) {
        check(c, SIMD);
    }

    @Test
    void bshdAndPackedQkvLayouts() {
        Random rnd = new Random(SEED + 1);
        int b = 2;
        int s = 37;
        int h = 3;
        int d = 24;
        AttentionProblem p = AttentionProblem.of(b, h, h, s, s, d);
        float[] packed = randn(rnd, b * s * 3 * h * d, 1f);
        Tensor[] qkv = Tensor.packedQkv(packed, b, s, h, d);
        check(new Case("packed qkv", p, qkv[0], qkv[1], qkv[2], Mask.causalTopLeft()), SIMD);
        Tensor q = Tensor.bshd(randn(rnd, b * s * h * d, 1f), b, s, h, d);
        Tensor k = Tensor.bshd(randn(rnd, b * s * h * d, 1f), b, s, h, d);
        Tensor v = Tensor.bshd(randn(rnd, b * s * h * d, 1f), b, s, h, d);
        check(new Case("bshd", p, q, k, v, Mask.none()), SIMD);
        Tensor outRef = Tensor.zeros(p.outShape());
        REFERENCE.attention(p, q, k, v, Mask.none(), outRef);
        Tensor out = Tensor.bshd(new float[b * s * h * d], b, s, h, d);
        SIMD.attention(p, q, k, v, Mask.none(), out);
        assertClose("bshd out", outRef, out, TOL);
    }

    @Test
    void offHeapAndStridedViews() {
        Random rnd = new Random(SEED + 2);
        AttentionProblem p = AttentionProblem.of(1, 2, 2, 19, 23, 12);
        try (Arena arena = Arena.ofConfined()) {
            Tensor q = offHeap(arena, randn(rnd, (int) Tensor.count(p.qShape()), 1f), p.qShape());
            Tensor k = offHeap(arena, randn(rnd, (int) Tensor.count(p.kShape()), 1f), p.kShape());
            // v with a strided last axis: every other element of a twice longer array
            float[] vData = randn(rnd, 2 * (int) Tensor.count(p.vShape()), 1f);
            Tensor v = Tensor.view(vData, 0, p.vShape(), new long[] {2L * 2 * 23 * 12, 2L * 23 * 12, 2L * 12, 2});
            Tensor outRef = Tensor.zeros(p.outShape());
            REFERENCE.attention(p, q, k, v, Mask.causalTopLeft(), outRef);
            Tensor out = offHeap(arena, new float[(int) Tensor.count(p.outShape())], p.outShape());
            SIMD.attention(p, q, k, v, Mask.causalTopLeft(), out);
            assertClose("off-heap out", outRef, out, TOL);
        }
    }

    /**
     * A decode over an off-heap KV cache reads K and V where they lie (tile by tile), in a shared arena
     * from the pool's threads and in a confined one from the caller: the same bits as over heap arrays,
     * packed or with a row stride ([B,S,H,D] memory), GQA, a key-length mask, D = 128 and D = 64, and on the
     * heap the reference's result within the tolerance.
     */
    @Test
    void decodeOverAnOffHeapKvCache() {
        Random rnd = new Random(SEED + 4);
        record Shape(AttentionProblem p, Mask mask) { }
        for (Shape sh : List.of(
                new Shape(AttentionProblem.of(2, 8, 2, 1, 1500, 128), Mask.none()),
                // read in place at D = 128 with groups of four (DecodeSegments): key lengths end mid-tile, two
                // query rows see different keys, eight heads per K/V head, a row whose keys are all masked
                new Shape(AttentionProblem.of(2, 8, 2, 1, 300, 128), Mask.keyLengths(new int[] {300, 93})),
                // several 512-key tiles, key lengths ending mid-tile in the second and the third
                new Shape(AttentionProblem.of(2, 8, 2, 1, 1300, 128), Mask.keyLengths(new int[] {1300, 1029})),
                new Shape(AttentionProblem.of(1, 8, 1, 2, 333, 128), Mask.causalBottomRight()),
                new Shape(AttentionProblem.of(2, 8, 2, 1, 200, 128), Mask.keyLengths(new int[] {0, 131})),
                new Shape(AttentionProblem.of(1, 8, 2, 1, 150, 128), oneHeadMasked(8, 150, 5)),
                // a K/V head per query head, and groups of six (four, then two one row at a time)
                new Shape(AttentionProblem.of(1, 3, 3, 1, 259, 128), Mask.none()),
                new Shape(AttentionProblem.of(1, 12, 2, 2, 190, 128), Mask.causalBottomRight()),
                // the scores pair key i with key i + half (an odd count leaves a last key; 1 key: no pairs)
                new Shape(AttentionProblem.of(1, 12, 2, 1, 257, 128), Mask.none()),
                new Shape(AttentionProblem.of(1, 8, 2, 1, 1, 128), Mask.none()),
                new Shape(AttentionProblem.of(1, 4, 1, 1, 3, 128), Mask.none()),
                // MHA's P·V in two halves: rows whose visible keys are odd, even, one and two in number
                new Shape(AttentionProblem.of(2, 4, 4, 2, 70, 128),
                        Mask.causalBottomRight().and(Mask.keyLengths(new int[] {69, 2}))),
                new Shape(AttentionProblem.of(1, 2, 2, 1, 1, 128), Mask.none()),
                new Shape(AttentionProblem.of(1, 4, 1, 2, 777, 64), Mask.causalBottomRight()),
                new Shape(AttentionProblem.of(2, 6, 3, 1, 600, 40), Mask.keyLengths(new int[] {600, 77})))) {
            AttentionProblem p = sh.p();
            float[] q = randn(rnd, (int) Tensor.count(p.qShape()), 1f);
            float[] k = randn(rnd, (int) Tensor.count(p.kShape()), 1f);
            float[] v = randn(rnd, (int) Tensor.count(p.vShape()), 1f);
            Tensor want = Tensor.zeros(p.outShape());
            SIMD.attention(p, Tensor.of(q, p.qShape()), Tensor.of(k, p.kShape()), Tensor.of(v, p.vShape()), sh.mask(), want);
            Tensor ref = Tensor.zeros(p.outShape());
            REFERENCE.attention(p, Tensor.of(q, p.qShape()), Tensor.of(k, p.kShape()), Tensor.of(v, p.vShape()),
                    sh.mask(), ref);
            assertClose("heap decode " + p, ref, want, TOL);
            for (boolean shared : new boolean[] {true, false}) {
                for (boolean strided : new boolean[] {false, true}) {
                    try (Arena arena = shared ? Arena.ofShared() : Arena.ofConfined()) {
                        Tensor ko = strided ? bshdOffHeap(arena, k, p.kShape()) : offHeap(arena, k, p.kShape());
                        Tensor vo = strided ? bshdOffHeap(arena, v, p.vShape()) : offHeap(arena, v, p.vShape());
                        String what = p + (shared ? " shared" : " confined") + (strided ? " [B,S,H,D]" : " packed");
                        Tensor got = Tensor.zeros(p.outShape());
                        SIMD.attention(p, Tensor.of(q, p.qShape()), ko, vo, sh.mask(), got);
                        assertArrayEquals(want.toFloatArray(), got.toFloatArray(), "off-heap K/V, " + what);
                        // K on the heap, V off-heap, the output off-heap too
                        Tensor out = offHeap(arena, new float[(int) Tensor.count(p.outShape())], p.outShape());
                        SIMD.attention(p, Tensor.of(q, p.qShape()), Tensor.of(k, p.kShape()), vo, sh.mask(), out);
                        assertArrayEquals(want.toFloatArray(), out.toFloatArray(), "off-heap V and out, " + what);
                    }
                }
            }
        }
    }

    /**
     * A boolean [1, H, 1, Sk] mask that hides every key from head {@code masked} and every third key from the
     * others: that head's group falls back from the four-row kernels to one row at a time.
     */
    static Mask oneHeadMasked(int heads, int seqK, int masked) {
        boolean[] keep = new boolean[heads * seqK];
        for (int h = 0; h < heads; h++) {
            for (int j = 0; j < seqK; j++) {
                keep[h * seqK + j] = h != masked && j % 3 != 1;
            }
        }
        return Mask.bool(Tensor.ofBooleans(keep, 1, heads, 1, seqK));
    }

    /** data (in [B,H,S,D] order) off-heap in [B,S,H,D] memory, viewed as [B,H,S,D]. */
    static Tensor bshdOffHeap(Arena arena, float[] data, int[] shape) {
        int h = shape[1];
        int s = shape[2];
        int d = shape[3];
        MemorySegment seg = arena.allocate(4L * data.length, 64);
        Tensor t = Tensor.view(seg, DType.FLOAT32, 0, shape, new long[] {(long) s * h * d, d, (long) h * d, 1});
        Fixtures.copyInto(data, t);
        return t;
    }

    static Tensor offHeap(Arena arena, float[] data, int[] shape) {
        MemorySegment seg = arena.allocate(4L * data.length, 64);
        MemorySegment.copy(data, 0, seg, ValueLayout.JAVA_FLOAT, 0, data.length);
        return Tensor.of(seg, DType.FLOAT32, shape);
    }

    /** The default grouping follows the thread count, so it must not touch the result: 1 … 32 tiles per pass. */
    @Test
    void identicalForAnyQueryTileGrouping() {
        Random rnd = new Random(SEED + 4);
        Parallel par = new Parallel(null, 1);
        for (Case c : List.of(
                bhsd("wide", AttentionProblem.of(1, 2, 1, 1000, 600, 32), rnd, 1f, Mask.keyLengths(555)),
                bhsd("causal", AttentionProblem.of(1, 2, 2, 700, 700, 24), rnd, 1f, Mask.causalTopLeft()))) {
            FlashConfig base = FlashConfig.forProblem(c.p(), c.mask());
            Tensor want = Tensor.zeros(c.p().outShape());
            FlashAttention.run(c.p(), c.q(), c.k(), c.v(), c.mask(), want, null, par,
                    new FlashConfig(base.keyTile(), base.splitBelowItems(), base.minKeysPerSplit(), base.maxSplits(), 1));
            for (int per : new int[] {2, 3, 8, 32}) {
                Tensor got = Tensor.zeros(c.p().outShape());
                FlashAttention.run(c.p(), c.q(), c.k(), c.v(), c.mask(), got, null, par,
                        new FlashConfig(base.keyTile(), base.splitBelowItems(), base.minKeysPerSplit(), base.maxSplits(), per));
                assertArrayEquals(want.toFloatArray(), got.toFloatArray(), c.name() + ", " + per + " tiles per pass");
            }
        }
    }

    @Test
    void identicalForAnyThreadCount() {
        Random rnd = new Random(SEED + 3);
        ExecutorService pool = Executors.newFixedThreadPool(3);
        try {
            Kernels one = Kernels.of(new SimdBackend(Vec.BITS, new Parallel(null, 1)));
            Kernels four = Kernels.of(new SimdBackend(Vec.BITS, new Parallel(pool, 4)));
            for (Case c : List.of(
                    bhsd("prefill", AttentionProblem.of(1, 3, 3, 130, 130, 40), rnd, 1f, Mask.causalTopLeft()),
                    bhsd("decode", AttentionProblem.of(1, 2, 2, 1, 3000, 64), rnd, 1f, Mask.none()))) {
                Tensor a = Tensor.zeros(c.p().outShape());
                Tensor b = Tensor.zeros(c.p().outShape());
                one.attention(c.p(), c.q(), c.k(), c.v(), c.mask(), a);
                four.attention(c.p(), c.q(), c.k(), c.v(), c.mask(), b);
                assertArrayEquals(a.toFloatArray(), b.toFloatArray(), c.name());
                SIMD.attention(c.p(), c.q(), c.k(), c.v(), c.mask(), b);
                assertArrayEquals(a.toFloatArray(), b.toFloatArray(), c.name() + " default pool");
            }
        } finally {
            pool.shutdown();
        }
    }
}
