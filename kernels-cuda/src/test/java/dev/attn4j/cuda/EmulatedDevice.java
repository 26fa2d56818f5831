package dev.attn4j.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@link Device} in plain Java: "device memory" is off-heap memory this class allocates (so addresses are
 * real and distinct from the test's host segments), copies are memory copies, cuBLAS is a column-major
 * strided-batched GEMM, and every kernel of the manifest is re-implemented from its CUDA source, reading its
 * arguments in the order the kernel declares them. Running {@link CudaOps} on it under the parity suites
 * checks everything the Java side decides (staging, strides, write-back, GEMM planning, GQA batching, mask
 * lowering, variant choice, argument lists) without a GPU; the CUDA kernels themselves need one.
 */
final class EmulatedDevice implements Device {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED;
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED;
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED;

    /** An A100's limits: 108 SMs, 1024 threads per block, 32-thread warps. */
    static final CudaLaunchConfig.Limits A100 = new CudaLaunchConfig.Limits(108, 1024, 32);

    private final CudaLaunchConfig.Limits limits;
    private final Arena arena = Arena.ofShared();
    private final Map<String, Integer> lastBlock = new ConcurrentHashMap<>();
    private volatile String lastFlash;
    private final TreeMap<Long, MemorySegment> blocks = new TreeMap<>();
    private long live;

    /** A device with {@link #A100}'s limits. */
    EmulatedDevice() {
        this(A100);
    }

    EmulatedDevice(CudaLaunchConfig.Limits limits) {
        this.limits = limits;
    }

    @Override
    public CudaLaunchConfig.Limits limits() {
        return limits;
    }

    /** The block size of the last launch of {@code kernel}, or null when it was never launched. */
    Integer lastBlock(String kernel) {
        return lastBlock.get(kernel);
    }

    /** The name of the last flash-attention variant launched, or null. */
    String lastFlash() {
        return lastFlash;
    }

    /** Bytes currently allocated (a leak check for the tests). */
    long liveBytes() {
        return live;
    }

    @Override
    public synchronized long malloc(long bytes, String what) {
        MemorySegment seg = arena.allocate(Math.max(bytes, 1), 256);
        blocks.put(seg.address(), seg);
        live += seg.byteSize();
        return seg.address();
    }

    @Override
    public synchronized void free(long address) {
        MemorySegment seg = blocks.remove(address);
        if (seg == null) {
            throw new IllegalStateException("free of 0x" + Long.toHexString(address) + ", which is not an allocation");
        }
        live -= seg.byteSize();
    }

    /** The memory from {@code address} to the end of its allocation; throws on a stray address. */
    synchronized MemorySegment at(long address) {
        Map.Entry<Long, MemorySegment> e = blocks.floorEntry(address);
        if (e == null || address >= e.getKey() + e.getValue().byteSize()) {
            throw new IllegalStateException("0x" + Long.toHexString(address) + " is not device memory");
        }
        return e.getValue().asSlice(address - e.getKey());
    }

    @Override
    public void upload(long dst, MemorySegment host, long byteOffset, long bytes) {
        MemorySegment.copy(host, byteOffset, at(dst), 0, bytes);
    }

    @Override
    public void download(long src, MemorySegment host, long byteOffset, long bytes) {
        MemorySegment.copy(at(src), 0, host, byteOffset, bytes);
    }

    @Override
    public void memsetD32(long dst, int value, long count) {
        MemorySegment m = at(dst);
        for (long i = 0; i < count; i++) {
            m.setAtIndex(I32, i, value);
        }
    }

    @Override
    public synchronized boolean isDevice(MemorySegment segment) {
        if (!segment.isNative()) {
            return false;
        }
        Map.Entry<Long, MemorySegment> e = blocks.floorEntry(segment.address());
        return e != null && segment.address() < e.getKey() + e.getValue().byteSize();
    }

    @Override
    public void synchronize() {
    }

    // ---------------------------------------------------------------- element access by storage code

    private float load(long base, int type, long index) {
        if (base == 0) {
            throw new IllegalStateException("null pointer read");
        }
        MemorySegment m = at(base);
        return switch (type) {
            case 0 -> m.getAtIndex(F32, index);
            case 1 -> Float.float16ToFloat(m.getAtIndex(I16, index));
            case 2 -> Float.intBitsToFloat(m.getAtIndex(I16, index) << 16);
            default -> m.get(ValueLayout.JAVA_BYTE, index) != 0 ? 1f : 0f;
        };
    }

    private void store(long base, int type, long index, float v) {
        MemorySegment m = at(base);
        switch (type) {
            case 0 -> m.setAtIndex(F32, index, v);
            case 1 -> m.setAtIndex(I16, index, Float.floatToFloat16(v));
            case 2 -> {
                int bits = Float.floatToRawIntBits(v);
                m.setAtIndex(I16, index, (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16));
            }
            default -> m.set(ValueLayout.JAVA_BYTE, index, (byte) (v != 0f ? 1 : 0));
        }
    }

    private long loadLong(long base, long index) {
        return at(base).getAtIndex(I64, index);
    }

    private int loadInt(long base, long index) {
        return at(base).getAtIndex(I32, index);
    }

    // ---------------------------------------------------------------- cuBLAS

    @Override
    public void gemm(GemmCall c) {
        // the argument checks of cublas<t>gemmStridedBatched: CUBLAS_STATUS_INVALID_VALUE on the GPU
        int aRows = c.transa() == GemmPlan.OP_N ? c.m() : c.k();
        int bRows = c.transb() == GemmPlan.OP_N ? c.k() : c.n();
        if (c.m() < 0 || c.n() < 0 || c.k() < 0 || c.batch() < 0 || c.lda() < Math.max(1, aRows)
                || c.ldb() < Math.max(1, bRows) || c.ldc() < Math.max(1, c.m())) {
            throw new CudaException(c.describe() + " failed: CUBLAS_STATUS_INVALID_VALUE (lda=" + c.lda() + ", ldb="
                    + c.ldb() + ", ldc=" + c.ldc() + ")");
        }
        for (int t = 0; t < c.batch(); t++) {
            for (int col = 0; col < c.n(); col++) {
                for (int row = 0; row < c.m(); row++) {
                    double acc = 0;
                    for (int e = 0; e < c.k(); e++) {
                        long ai = c.transa() == GemmPlan.OP_N ? row + (long) e * c.lda() : e + (long) row * c.lda();
                        long bi = c.transb() == GemmPlan.OP_N ? e + (long) col * c.ldb() : col + (long) e * c.ldb();
                        acc += (double) load(c.a(), c.aType(), t * c.strideA() + ai) * load(c.b(), c.bType(), t * c.strideB() + bi);
                    }
                    long ci = t * c.strideC() + row + (long) col * c.ldc();
                    double prior = c.beta() == 0f ? 0 : c.beta() * (double) load(c.c(), c.cType(), ci);
                    store(c.c(), c.cType(), ci, (float) (c.alpha() * acc + prior));
                }
            }
        }
    }

    // ---------------------------------------------------------------- kernels

    /** Reads a launch's arguments in declaration order. */
    private static final class Args {
        private final KernelArgs a;
        private int next;

        Args(KernelArgs a) {
            this.a = a;
        }

        long p() {
            return a.bits(next++);
        }

        int i() {
            return (int) a.bits(next++);
        }

        long l() {
            return a.bits(next++);
        }

        float f() {
            return Float.intBitsToFloat((int) a.bits(next++));
        }
    }

    /** a4j::Mask of common.cuh. */
    private final class MaskArgs {
        final long lo;
        final long hi;
        final long lim;
        final long bm;
        final long[] bs = new long[4];
        final long am;
        final long[] as = new long[4];

        /** Only the structured bounds (the additive kernel's). */
        MaskArgs(long lo, long hi, long lim) {
            this.lo = lo;
            this.hi = hi;
            this.lim = lim;
            this.bm = 0;
            this.am = 0;
        }

        MaskArgs(Args a) {
            lo = a.p();
            hi = a.p();
            lim = a.p();
            bm = a.p();
            for (int i = 0; i < 4; i++) {
                bs[i] = a.l();
            }
            am = a.p();
            for (int i = 0; i < 4; i++) {
                as[i] = a.l();
            }
        }

        int begin(int b, int i, int sk) {
            if (lo == 0) {
                return 0;
            }
            long v = i + loadLong(lo, b);
            return (int) Math.max(0, Math.min(v, sk));
        }

        int end(int b, int i, int sk) {
            long v = sk;
            if (hi != 0) {
                v = Math.min(v, i + loadLong(hi, b));
            }
            if (lim != 0) {
                v = Math.min(v, loadInt(lim, b));
            }
            return (int) Math.max(0, v);
        }

        float dense(int b, int h, int i, int j) {
            if (bm != 0 && load(bm, 3, b * bs[0] + h * bs[1] + i * bs[2] + j * bs[3]) == 0f) {
                return Float.NEGATIVE_INFINITY;
            }
            return am != 0 ? load(am, 0, b * as[0] + h * as[1] + i * as[2] + j * as[3]) : 0f;
        }
    }

    @Override
    public void launch(KernelTable.Entry kernel, int gridX, int gridY, int gridZ, int block, KernelArgs args) {
        // the launch limits of every GPU attn4j targets: CUDA_ERROR_INVALID_VALUE on the GPU
        if (gridX < 1 || gridY < 1 || gridZ < 1 || gridY > 65535 || gridZ > 65535 || block < limits.warpSize()
                || block > limits.maxThreadsPerBlock() || block % limits.warpSize() != 0) {
            throw new CudaException("cuLaunchKernel(" + kernel.name() + ", grid=" + gridX + "x" + gridY + "x" + gridZ
                    + ", block=" + block + ") failed: CUDA_ERROR_INVALID_VALUE");
        }
        lastBlock.put(kernel.name(), block);
        Args a = new Args(args);
        if (kernel.flash() != null) {
            lastFlash = kernel.name();
            flash(kernel.flash(), a, gridX, gridY, gridZ, block);
            return;
        }
        switch (kernel.name()) {
            case "convert_strided" -> convertStrided(a);
            case "split_heads_f32" -> {
                long src = a.p();
                long dst = a.p();
                int bb = a.i();
                int s = a.i();
                int h = a.i();
                int d = a.i();
                long rowStride = a.l();
                long colOffset = a.l();
                long idx = 0;
                for (int b = 0; b < bb; b++) {
                    for (int hh = 0; hh < h; hh++) {
                        for (int ss = 0; ss < s; ss++) {
                            for (int dd = 0; dd < d; dd++) {
                                store(dst, 0, idx++, load(src, 0, ((long) b * s + ss) * rowStride + colOffset + (long) hh * d + dd));
                            }
                        }
                    }
                }
            }
            case "merge_heads_f32" -> {
                long src = a.p();
                long dst = a.p();
                int bb = a.i();
                int h = a.i();
                int s = a.i();
                int d = a.i();
                long idx = 0;
                for (int b = 0; b < bb; b++) {
                    for (int hh = 0; hh < h; hh++) {
                        for (int ss = 0; ss < s; ss++) {
                            for (int dd = 0; dd < d; dd++) {
                                store(dst, 0, (((long) b * s + ss) * h + hh) * d + dd, load(src, 0, idx++));
                            }
                        }
                    }
                }
            }
            case "mask_accumulate_f32" -> {
                long dst = a.p();
                long term = a.p();
                int type = a.i();
                int bb = a.i();
                int h = a.i();
                int sq = a.i();
                int sk = a.i();
                long[] st = {a.l(), a.l(), a.l(), a.l()};
                long idx = 0;
                for (int b = 0; b < bb; b++) {
                    for (int hh = 0; hh < h; hh++) {
                        for (int i = 0; i < sq; i++) {
                            for (int j = 0; j < sk; j++) {
                                float v = load(term, type, b * st[0] + hh * st[1] + i * st[2] + j * st[3]);
                                store(dst, 0, idx, load(dst, 0, idx) + (type == 3 ? (v != 0f ? 0f : Float.NEGATIVE_INFINITY) : v));
                                idx++;
                            }
                        }
                    }
                }
            }
            case "masked_softmax_rows_f32" -> maskedSoftmaxRows(a, gridX, block);
            case "l2_normalize_rows_f32" -> l2NormalizeRows(a);
            case "additive_scores_f32" -> additiveScores(a, gridX, block);
            case "topk_rows_f32" -> topKRows(a, gridX);
            case "sample_rows_f32" -> sampleRows(a);
            case "localp_rows_f32" -> localPRows(a);
            case "add_sinusoidal_f32" -> addSinusoidal(a);
            case "add_f32" -> {
                long x = a.p();
                long b = a.p();
                long y = a.p();
                long n = a.l();
                long period = a.l();
                for (long i = 0; i < n; i++) {
                    store(y, 0, i, load(x, 0, i) + load(b, 0, i % period));
                }
            }
            case "bias_residual_f32" -> {
                long y = a.p();
                long bias = a.p();
                long residual = a.p();
                int m = a.i();
                int n = a.i();
                long rs0 = a.l();
                long rs1 = a.l();
                for (long idx = 0; idx < (long) m * n; idx++) {
                    float r = load(y, 0, idx);
                    if (bias != 0) {
                        r += load(bias, 0, idx % n);
                    }
                    if (residual != 0) {
                        r += load(residual, 0, idx / n * rs0 + idx % n * rs1);
                    }
                    store(y, 0, idx, r);
                }
            }
            case "softmax_axis_f32" -> {
                long x = a.p();
                long y = a.p();
                long outer = a.l();
                int n = a.i();
                long inner = a.l();
                for (long o = 0; o < outer; o++) {
                    for (long in = 0; in < inner; in++) {
                        long base = o * n * inner + in;
                        float m = Float.NEGATIVE_INFINITY;
                        for (int t = 0; t < n; t++) {
                            m = Math.max(m, load(x, 0, base + t * inner));
                        }
                        float sum = 0f;
                        for (int t = 0; t < n; t++) {
                            sum += m == Float.NEGATIVE_INFINITY ? 0f : (float) Math.exp(load(x, 0, base + t * inner) - m);
                        }
                        float[] out = new float[n];
                        for (int t = 0; t < n; t++) {
                            out[t] = m == Float.NEGATIVE_INFINITY ? 0f : (float) Math.exp(load(x, 0, base + t * inner) - m) / sum;
                        }
                        for (int t = 0; t < n; t++) {
                            store(y, 0, base + t * inner, out[t]);
                        }
                    }
                }
            }
            case "layer_norm_f32" -> {
                long x = a.p();
                long y = a.p();
                long scale = a.p();
                long bias = a.p();
                long mean = a.p();
                long inv = a.p();
                long groups = a.l();
                int n = a.i();
                float eps = a.f();
                for (long g = 0; g < groups; g++) {
                    double s = 0;
                    for (int t = 0; t < n; t++) {
                        s += load(x, 0, g * n + t);
                    }
                    float mu = (float) (s / n);
                    double q = 0;
                    for (int t = 0; t < n; t++) {
                        double d = load(x, 0, g * n + t) - mu;
                        q += d * d;
                    }
                    float r = (float) (1.0 / Math.sqrt(q / n + eps));
                    for (int t = 0; t < n; t++) {
                        float v = (load(x, 0, g * n + t) - mu) * r * load(scale, 0, t);
                        if (bias != 0) {
                            v += load(bias, 0, t);
                        }
                        store(y, 0, g * n + t, v);
                    }
                    if (mean != 0) {
                        store(mean, 0, g, mu);
                    }
                    if (inv != 0) {
                        store(inv, 0, g, r);
                    }
                }
            }
            case "gelu_f32" -> {
                long x = a.p();
                long y = a.p();
                long n = a.l();
                int approx = a.i();
                for (long i = 0; i < n; i++) {
                    double v = load(x, 0, i);
                    double r = approx == 0 ? 0.5 * v * (1 + erf(v / Math.sqrt(2)))
                            : 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)));
                    store(y, 0, i, (float) r);
                }
            }
            case "rotary_f32" -> {
                long x = a.p();
                long y = a.p();
                long cos = a.p();
                long sin = a.p();
                long pos = a.p();
                int bb = a.i();
                int h = a.i();
                int s = a.i();
                int d = a.i();
                int rot = a.i();
                boolean interleaved = a.i() != 0;
                int half = rot / 2;
                for (long row = 0; row < (long) bb * h * s; row++) {
                    int ss = (int) (row % s);
                    int b = (int) (row / ((long) s * h));
                    float[] xr = new float[d];
                    for (int t = 0; t < d; t++) {
                        xr[t] = load(x, 0, row * d + t);
                    }
                    for (int t = 0; t < d; t++) {
                        if (t < half) {
                            long at = pos != 0 ? (long) loadInt(pos, (long) b * s + ss) * half + t : ((long) b * s + ss) * half + t;
                            float c = load(cos, 0, at);
                            float sn = load(sin, 0, at);
                            int i1 = interleaved ? 2 * t : t;
                            int i2 = interleaved ? 2 * t + 1 : t + half;
                            store(y, 0, row * d + i1, c * xr[i1] - sn * xr[i2]);
                            store(y, 0, row * d + i2, sn * xr[i1] + c * xr[i2]);
                        } else if (t >= rot) {
                            store(y, 0, row * d + t, xr[t]);
                        }
                    }
                }
            }
            default -> throw new IllegalStateException("no emulation of kernel " + kernel.name());
        }
    }

    private void convertStrided(Args a) {
        long src = a.p();
        int st = a.i();
        long dst = a.p();
        int dt = a.i();
        int[] n = new int[6];
        long[] s = new long[6];
        long[] d = new long[6];
        for (int i = 0; i < 6; i++) {
            n[i] = a.i();
        }
        for (int i = 0; i < 6; i++) {
            s[i] = a.l();
        }
        for (int i = 0; i < 6; i++) {
            d[i] = a.l();
        }
        long count = a.l();
        for (long idx = 0; idx < count; idx++) {
            long rest = idx;
            long from = 0;
            long to = 0;
            for (int axis = 5; axis >= 1; axis--) {
                long i = rest % n[axis];
                rest /= n[axis];
                from += i * s[axis];
                to += i * d[axis];
            }
            from += rest * s[0];
            to += rest * d[0];
            store(dst, dt, to, load(src, st, from));
        }
    }

    /**
     * The row kernel as the GPU runs it: blocks stride over the rows by the grid, and the row sum is the block
     * reduction's float order (each thread's partial over keys j ≡ t mod block, a butterfly per 32-lane warp,
     * then one over the warps' partials padded with zeros), so that each block size gives its own rounding.
     */
    private void maskedSoftmaxRows(Args a, int gridX, int block) {
        long scores = a.p();
        long lse = a.p();
        int bb = a.i();
        int h = a.i();
        int sq = a.i();
        int sk = a.i();
        float scale = a.f();
        float softcap = a.f();
        int stage = a.i();
        MaskArgs mask = new MaskArgs(a);
        long rows = (long) bb * h * sq;
        boolean[] done = new boolean[Math.toIntExact(rows)];
        for (int blk = 0; blk < gridX; blk++) {
            for (long row = blk; row < rows; row += gridX) {
                done[(int) row] = true;
                softmaxRow(scores, lse, row, h, sq, sk, scale, softcap, stage, mask, block);
            }
        }
        for (int r = 0; r < done.length; r++) {
            if (!done[r]) {
                throw new IllegalStateException("masked_softmax_rows_f32 grid=" + gridX + " leaves row " + r + " of " + rows);
            }
        }
    }

    /** block_reduce&lt;false&gt; of common.cuh: a butterfly per warp, then one over the warps' partials. */
    static float blockSum(float[] part) {
        float[] warps = new float[32];
        for (int w = 0; w < part.length / 32; w++) {
            warps[w] = warpSum(Arrays.copyOfRange(part, 32 * w, 32 * w + 32));
        }
        return warpSum(warps);
    }

    /** warp_sum of common.cuh: lane 0's value after the xor butterfly over 32 lanes. */
    private static float warpSum(float[] lanes) {
        float[] v = lanes.clone();
        for (int o = 16; o > 0; o >>= 1) {
            float[] next = new float[32];
            for (int l = 0; l < 32; l++) {
                next[l] = v[l] + v[l ^ o];
            }
            v = next;
        }
        return v[0];
    }

    private void softmaxRow(long scores, long lse, long row, int h, int sq, int sk, float scale, float softcap, int stage,
                            MaskArgs mask, int block) {
        {
            int i = (int) (row % sq);
            int hh = (int) (row / sq % h);
            int b = (int) (row / ((long) sq * h));
            int kb = mask.begin(b, i, sk);
            int ke = mask.end(b, i, sk);
            float max = Float.NEGATIVE_INFINITY;
            float[] x = new float[sk];
            for (int j = 0; j < sk; j++) {
                float v = load(scores, 0, row * sk + j) * scale;
                if (stage >= 1 && softcap > 0f) {
                    v = softcap * (float) Math.tanh(v / softcap);
                }
                if (stage >= 2) {
                    v = j < kb || j >= ke ? Float.NEGATIVE_INFINITY : v + mask.dense(b, hh, i, j);
                }
                x[j] = v;
                max = Math.max(max, v);
            }
            if (stage == 3) {
                if (max == Float.NEGATIVE_INFINITY) {
                    java.util.Arrays.fill(x, 0f);
                    if (lse != 0) {
                        store(lse, 0, row, Float.NEGATIVE_INFINITY);
                    }
                } else {
                    float[] part = new float[block];
                    for (int j = 0; j < sk; j++) {
                        x[j] = (float) Math.exp(x[j] - max);
                        part[j % block] += x[j];
                    }
                    float sum = blockSum(part);
                    float inv = 1f / sum;
                    for (int j = 0; j < sk; j++) {
                        x[j] *= inv;
                    }
                    if (lse != 0) {
                        store(lse, 0, row, max + (float) Math.log(sum));
                    }
                }
            }
            for (int j = 0; j < sk; j++) {
                store(scores, 0, row * sk + j, x[j]);
            }
        }
    }

    // ---------------------------------------------------------------- the literature family (classic.cu)

    private void l2NormalizeRows(Args a) {
        long x = a.p();
        long y = a.p();
        long rows = a.l();
        int d = a.i();
        float eps = a.f();
        for (long r = 0; r < rows; r++) {
            float ss = 0f;
            for (int t = 0; t < d; t++) {
                float v = load(x, 0, r * d + t);
                ss += v * v;
            }
            float norm = (float) Math.sqrt(ss);
            float inv = 1f / Math.max(norm, eps);
            for (int t = 0; t < d; t++) {
                store(y, 0, r * d + t, load(x, 0, r * d + t) * inv);
            }
        }
    }

    /** As the kernel: 32×32 tiles, and with structured bounds a tile outside every row's interval is left unwritten. */
    private void additiveScores(Args a, int gridX, int block) {
        long pq = a.p();
        long pk = a.p();
        long va = a.p();
        long s = a.p();
        int bb = a.i();
        int h = a.i();
        int sq = a.i();
        int sk = a.i();
        int hidden = a.i();
        int pkGroup = a.i();
        int vStride = a.i();
        long lo = a.p();
        long hi = a.p();
        long lim = a.p();
        int tile = CudaClassicOps.ADDITIVE_TILE;
        // each thread takes 4 of the tile's 32 query rows: the kernel needs exactly 256 threads
        if (block != 256 || h % pkGroup != 0) {
            throw new IllegalStateException("additive_scores_f32 launched with block=" + block + ", H=" + h + ", pk_group="
                    + pkGroup);
        }
        long tiles = (long) bb * h * ((sq + tile - 1) / tile) * ((sk + tile - 1) / tile);
        if (gridX > tiles && tiles > 0) {
            throw new IllegalStateException("additive_scores_f32 grid " + gridX + " > " + tiles + " tiles");
        }
        boolean bounded = lo != 0 || hi != 0 || lim != 0;
        MaskArgs mask = bounded ? new MaskArgs(lo, hi, lim) : null;
        int pkHeads = h / pkGroup;
        for (int b = 0; b < bb; b++) {
            for (int hh = 0; hh < h; hh++) {
                for (int i0 = 0; i0 < sq; i0 += tile) {
                    for (int j0 = 0; j0 < sk; j0 += tile) {
                        if (bounded) {
                            int last = Math.min(i0 + tile - 1, sq - 1);
                            if (mask.end(b, last, sk) <= j0 || mask.begin(b, i0, sk) >= j0 + tile) {
                                continue;
                            }
                        }
                        for (int i = i0; i < Math.min(i0 + tile, sq); i++) {
                            for (int j = j0; j < Math.min(j0 + tile, sk); j++) {
                                float acc = 0f;
                                for (int t = 0; t < hidden; t++) {
                                    float x = load(pq, 0, (((long) b * h + hh) * sq + i) * hidden + t)
                                            + load(pk, 0, (((long) b * pkHeads + hh / pkGroup) * sk + j) * hidden + t);
                                    acc += load(va, 0, (long) hh * vStride + t) * (float) Math.tanh(x);
                                }
                                store(s, 0, (((long) b * h + hh) * sq + i) * sk + j, acc);
                            }
                        }
                    }
                }
            }
        }
    }

    private void topKRows(Args a, int gridX) {
        long s = a.p();
        long v = a.p();
        long out = a.p();
        long idx = a.p();
        long scratch = a.p();
        int bb = a.i();
        int h = a.i();
        int kvh = a.i();
        int sq = a.i();
        int sk = a.i();
        int dv = a.i();
        int k = a.i();
        int keys = a.i();
        // the kernel's contract: a power of two covering the row, and a global slice per block past shared memory
        if (Integer.bitCount(keys) != 1 || keys < sk || keys >= 2 * Math.max(sk, 1) || k < 1 || k > sk) {
            throw new IllegalStateException("topk_rows_f32 with Sk=" + sk + ", k=" + k + ", P=" + keys);
        }
        if (k > 1 && keys > CudaClassicOps.TOPK_SHARED_KEYS) {
            if (scratch == 0 || at(scratch).byteSize() < 8L * gridX * keys) {
                throw new IllegalStateException("topk_rows_f32 needs " + 8L * gridX * keys + " bytes of scratch for grid "
                        + gridX + " and P=" + keys);
            }
        }
        long rows = (long) bb * h * sq;
        int g = h / kvh;
        for (long row = 0; row < rows; row++) {
            int hh = (int) (row / sq % h);
            int b = (int) (row / ((long) sq * h));
            long vBase = ((long) b * kvh + hh / g) * sk * dv;
            float[] x = new float[sk];
            Integer[] order = new Integer[sk];
            int n = 0;
            for (int j = 0; j < sk; j++) {
                x[j] = load(s, 0, row * sk + j);
                if (x[j] != Float.NEGATIVE_INFINITY) {
                    order[n++] = j;
                }
            }
            // descending score (−0 equal to +0), ties to the lower key: a stable sort of the visible keys
            Arrays.sort(order, 0, n, (p, q) -> Float.compare(x[q] + 0f, x[p] + 0f));
            n = Math.min(n, k);
            float top = n > 0 ? x[order[0]] : 0f;
            float[] e = new float[n];
            float sum = 0f;
            for (int t = 0; t < n; t++) {
                e[t] = (float) Math.exp(x[order[t]] - top);
                sum += e[t];
            }
            if (idx != 0) {
                for (int t = 0; t < k; t++) {
                    at(idx).setAtIndex(I32, row * k + t, t < n ? order[t] : -1);
                }
            }
            for (int d = 0; d < dv; d++) {
                float acc = 0f;
                for (int t = 0; t < n; t++) {
                    acc += e[t] * load(v, 0, vBase + (long) order[t] * dv + d);
                }
                store(out, 0, row * dv + d, n > 0 ? acc / sum : 0f);
            }
        }
    }

    private void sampleRows(Args a) {
        long s = a.p();
        long v = a.p();
        long out = a.p();
        long idx = a.p();
        int bb = a.i();
        int h = a.i();
        int kvh = a.i();
        int sq = a.i();
        int sk = a.i();
        int dv = a.i();
        long seed = a.l();
        long rows = (long) bb * h * sq;
        int g = h / kvh;
        for (long row = 0; row < rows; row++) {
            float m = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < sk; j++) {
                m = Math.max(m, load(s, 0, row * sk + j));
            }
            int key = -1;
            if (m != Float.NEGATIVE_INFINITY) {
                double[] w = new double[sk];
                double total = 0;
                int last = -1;
                for (int j = 0; j < sk; j++) {
                    w[j] = Math.exp((double) load(s, 0, row * sk + j) - m);
                    total += w[j];
                    if (w[j] > 0) {
                        last = j;
                    }
                }
                double target = dev.attn4j.api.Kernels.sampleUniform(seed, row) * total;
                double c = 0;
                key = last;
                for (int j = 0; j < sk; j++) {
                    c += w[j];
                    if (w[j] > 0 && c > target) {
                        key = j;
                        break;
                    }
                }
            }
            int hh = (int) (row / sq % h);
            int b = (int) (row / ((long) sq * h));
            long vBase = ((long) b * kvh + hh / g) * sk * dv;
            for (int d = 0; d < dv; d++) {
                store(out, 0, row * dv + d, key >= 0 ? load(v, 0, vBase + (long) key * dv + d) : 0f);
            }
            if (idx != 0) {
                at(idx).setAtIndex(I32, row, key);
            }
        }
    }

    private void localPRows(Args a) {
        long s = a.p();
        long q = a.p();
        long wp = a.p();
        long vp = a.p();
        long v = a.p();
        long out = a.p();
        long centres = a.p();
        int bb = a.i();
        int h = a.i();
        int kvh = a.i();
        int sq = a.i();
        int sk = a.i();
        int dim = a.i();
        int dv = a.i();
        int hidden = a.i();
        int wpStride = a.i();
        int vpStride = a.i();
        int halfWidth = a.i();
        long rows = (long) bb * h * sq;
        int g = h / kvh;
        double twoSigma2 = 2.0 * (halfWidth / 2.0) * (halfWidth / 2.0);
        for (long row = 0; row < rows; row++) {
            int hh = (int) (row / sq % h);
            int b = (int) (row / ((long) sq * h));
            double zt = 0;
            for (int t = 0; t < hidden; t++) {
                double z = 0;
                for (int d = 0; d < dim; d++) {
                    z += (double) load(wp, 0, (long) hh * wpStride + (long) t * dim + d) * load(q, 0, row * dim + d);
                }
                zt += load(vp, 0, (long) hh * vpStride + t) * Math.tanh(z);
            }
            double pt = sk / (1 + Math.exp(-zt));
            if (centres != 0) {
                store(centres, 0, row, (float) pt);
            }
            int lo = (int) Math.max(0, Math.ceil(pt - halfWidth));
            int hi = (int) Math.min(sk - 1, Math.floor(pt + halfWidth));
            float m = Float.NEGATIVE_INFINITY;
            for (int j = lo; j <= hi; j++) {
                m = Math.max(m, load(s, 0, row * sk + j));
            }
            double[] acc = new double[dv];
            if (m != Float.NEGATIVE_INFINITY) {
                float sum = 0f;
                for (int j = lo; j <= hi; j++) {
                    sum += (float) Math.exp(load(s, 0, row * sk + j) - m);
                }
                long vBase = ((long) b * kvh + hh / g) * sk * dv;
                for (int j = lo; j <= hi; j++) {
                    double dj = j - pt;
                    float w = (float) Math.exp(load(s, 0, row * sk + j) - m) / sum * (float) Math.exp(-dj * dj / twoSigma2);
                    store(s, 0, row * sk + j, w);  // the kernel leaves the weights in the score row
                    for (int d = 0; d < dv; d++) {
                        acc[d] += w * load(v, 0, vBase + (long) j * dv + d);
                    }
                }
            }
            for (int d = 0; d < dv; d++) {
                store(out, 0, row * dv + d, (float) acc[d]);
            }
        }
    }

    private void addSinusoidal(Args a) {
        long x = a.p();
        long y = a.p();
        int bb = a.i();
        int seq = a.i();
        int dim = a.i();
        int offset = a.i();
        long count = (long) seq * dim;
        for (long idx = 0; idx < count; idx++) {
            int e = (int) (idx % dim);
            long pos = offset + idx / dim;
            double omega = Math.exp(-Math.log(10000.0) * (e - (e & 1)) / dim);
            float pe = (float) ((e & 1) == 0 ? Math.sin(pos * omega) : Math.cos(pos * omega));
            for (int b = 0; b < bb; b++) {
                store(y, 0, b * count + idx, load(x, 0, b * count + idx) + pe);
            }
        }
    }

    /**
     * flash.cu's kernel as the GPU runs it, for the variant's tile: block by block of the grid (4·R query rows
     * each), over the key tiles of BN keys from the first row's first visible key to the last row's end, with the
     * online softmax in float32 (the tile's max and its butterfly sum over the 32 lanes, the running max, sum and
     * accumulators rescaled once per tile). So a variant's tile decides the rounding and the tile ranges, as on the
     * GPU, and rows that the grid misses stay unwritten.
     */
    private void flash(KernelTable.Flash variant, Args a, int gridX, int gridY, int gridZ, int block) {
        int type = CudaOps.code(variant.dtype());
        long q = a.p();
        long k = a.p();
        long v = a.p();
        long o = a.p();
        long lse = a.p();
        int bb = a.i();
        int h = a.i();
        int kvh = a.i();
        int sq = a.i();
        int sk = a.i();
        int d = a.i();
        int dv = a.i();
        float scale = a.f();
        float softcap = a.f();
        long[] qs = {a.l(), a.l(), a.l()};
        long[] ks = {a.l(), a.l(), a.l()};
        long[] vs = {a.l(), a.l(), a.l()};
        long[] os = {a.l(), a.l(), a.l()};
        MaskArgs mask = new MaskArgs(a);
        // the launch configuration the kernel assumes
        if (block != 128 || gridY != h || gridZ != bb || (long) gridX * variant.blockRows() < sq
                || Math.max(d, dv) > variant.maxHeadDim() || variant.keyTile() > 32) {
            throw new IllegalStateException("flash launch grid=" + gridX + "x" + gridY + "x" + gridZ + " block=" + block
                    + " does not cover the problem B=" + bb + " H=" + h + " Sq=" + sq + " D=" + d + " Dv=" + dv
                    + " for " + variant);
        }
        int bm = variant.blockRows();
        int bn = variant.keyTile();
        float[] m = new float[bm];
        float[] l = new float[bm];
        float[][] acc = new float[bm][dv];
        float[] p = new float[32];
        for (int b = 0; b < bb; b++) {
            for (int hh = 0; hh < h; hh++) {
                int g = hh / (h / kvh);
                for (int bx = 0; bx < gridX; bx++) {
                    int i0 = bx * bm;
                    int rows = Math.min(sq, i0 + bm) - i0;
                    if (rows <= 0) {
                        continue;
                    }
                    Arrays.fill(m, Float.NEGATIVE_INFINITY);
                    Arrays.fill(l, 0f);
                    for (float[] row : acc) {
                        Arrays.fill(row, 0f);
                    }
                    int kEnd = mask.end(b, i0 + rows - 1, sk);
                    for (int kt = mask.begin(b, i0, sk); kt < kEnd; kt += bn) {
                        for (int r = 0; r < rows; r++) {
                            int i = i0 + r;
                            int rowBegin = mask.begin(b, i, sk);
                            int rowEnd = mask.end(b, i, sk);
                            float tileMax = Float.NEGATIVE_INFINITY;
                            for (int lane = 0; lane < 32; lane++) {
                                int j = kt + lane;
                                float s = Float.NEGATIVE_INFINITY;
                                if (lane < bn && j >= rowBegin && j < rowEnd) {
                                    float dot = 0f;
                                    for (int e = 0; e < d; e++) {
                                        dot = Math.fma(load(q, type, b * qs[0] + hh * qs[1] + i * qs[2] + e),
                                                load(k, type, b * ks[0] + g * ks[1] + j * ks[2] + e), dot);
                                    }
                                    s = dot * scale;
                                    if (softcap > 0f) {
                                        s = softcap * (float) Math.tanh(s / softcap);
                                    }
                                    s += mask.dense(b, hh, i, j);
                                }
                                p[lane] = s;
                                tileMax = Math.max(tileMax, s);
                            }
                            float mNew = Math.max(m[r], tileMax);
                            if (mNew == Float.NEGATIVE_INFINITY) {
                                continue;
                            }
                            for (int lane = 0; lane < 32; lane++) {
                                p[lane] = p[lane] == Float.NEGATIVE_INFINITY ? 0f : (float) Math.exp(p[lane] - mNew);
                            }
                            float alpha = m[r] == Float.NEGATIVE_INFINITY ? 0f : (float) Math.exp(m[r] - mNew);
                            l[r] = l[r] * alpha + butterflySum(p);
                            m[r] = mNew;
                            for (int e = 0; e < dv; e++) {
                                acc[r][e] *= alpha;
                            }
                            for (int jj = 0; jj < bn; jj++) {
                                if (p[jj] != 0f) {
                                    for (int e = 0; e < dv; e++) {
                                        acc[r][e] = Math.fma(p[jj], load(v, type, b * vs[0] + g * vs[1] + (kt + jj) * vs[2] + e),
                                                acc[r][e]);
                                    }
                                }
                            }
                        }
                    }
                    for (int r = 0; r < rows; r++) {
                        int i = i0 + r;
                        float inv = l[r] > 0f ? 1f / l[r] : 0f;
                        for (int e = 0; e < dv; e++) {
                            store(o, type, b * os[0] + hh * os[1] + i * os[2] + e, acc[r][e] * inv);
                        }
                        if (lse != 0) {
                            store(lse, 0, ((long) b * h + hh) * sq + i,
                                    l[r] > 0f ? m[r] + (float) Math.log(l[r]) : Float.NEGATIVE_INFINITY);
                        }
                    }
                }
            }
        }
    }

    /** warp_sum of common.cuh: the xor butterfly over 32 lanes, in its order (every lane ends with this value). */
    private static float butterflySum(float[] lanes) {
        float[] w = lanes.clone();
        float[] next = new float[32];
        for (int offset = 16; offset > 0; offset >>= 1) {
            for (int lane = 0; lane < 32; lane++) {
                next[lane] = w[lane] + w[lane ^ offset];
            }
            float[] t = w;
            w = next;
            next = t;
        }
        return w[0];
    }

    /** erf to about 1e-7 (Abramowitz–Stegun 7.1.26 is too coarse; this is the series / continued fraction). */
    private static double erf(double x) {
        double ax = Math.abs(x);
        if (ax > 6) {
            return Math.signum(x);
        }
        if (ax < 3) {
            double term = x;
            double sum = x;
            double x2 = x * x;
            for (int n = 1; n < 200; n++) {
                term *= -x2 / n;
                double add = term / (2 * n + 1);
                sum += add;
                if (Math.abs(add) < 1e-17 * Math.abs(sum)) {
                    break;
                }
            }
            return 2 / Math.sqrt(Math.PI) * sum;
        }
        double kk = ax;
        for (int n = 80; n >= 1; n--) {
            kk = ax + (n / 2.0) / kk;
        }
        return Math.signum(x) * (1 - Math.exp(-ax * ax) / (Math.sqrt(Math.PI) * kk));
    }
}
