package dev.attn4j.api;

import java.util.Arrays;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * A complete multi-head attention layer (Vaswani et al. 2017, §3.2.2) built only on the public
 * {@link Kernels}: self-attention, masked (causal) self-attention, cross-attention, grouped-query and
 * multi-query attention (Ainslie et al. 2023; Shazeer 2019), a key/value cache with append and
 * incremental decoding, and the attention weights on request.
 *
 * <pre>
 *   Q = x·W_qᵀ + b_q,  K = m·W_kᵀ + b_k,  V = m·W_vᵀ + b_v      (m = x for self-attention)
 *   head_h = attention(Q_h, K_{h/g}, V_{h/g}, mask)                (g = heads / kvHeads; any {@link ScoreFunction})
 *   y = concat_h(head_h)·W_oᵀ + b_o
 * </pre>
 *
 * <p>Shapes: {@code x [B, Sq, E]}, {@code m [B, Sk, Ekv]}, {@code y [B, Sq, E]}; weights
 * {@code W_q [H·D, E]}, {@code W_k [KVH·D, Ekv]}, {@code W_v [KVH·Dv, Ekv]}, {@code W_o [E, H·Dv]}. When
 * {@code Ekv == E} the three input projections are one packed matrix ({@link #qkvWeight()}) and
 * self-attention projects with one fused {@link Kernels#projectQkv} call.
 *
 * <p>The layer owns its weights (zero until {@link #initialize} or the caller writes through the
 * views {@link #wq()} … {@link #bo()}), its key/value cache and its scratch buffers. <b>It is not
 * thread-safe: use one instance per thread</b> (instances may share nothing but the stateless kernels).
 *
 * <p>Decoding: {@link #startCache} allocates a cache of {@code capacity} positions per batch entry.
 * {@link #decode} appends the keys and values of new tokens and attends their queries to every cached
 * position under the causal mask aligned bottom-right, so decoding a sequence token by token gives the
 * rows of {@code selfAttention(x, Mask.causalTopLeft(), y)}. For an encoder–decoder, {@link #append}
 * caches the projected encoder memory once and {@link #attendCache} runs cross-attention against it.
 */
public final class MultiHeadAttention {
    private final Kernels kernels;
    private final int embedDim;
    private final int kvEmbedDim;
    private final int heads;
    private final int kvHeads;
    private final int headDim;
    private final int valueDim;
    private final float scale;
    private final ScoreFunction score;

    /** Rows [W_q; W_k; W_v], each row of length E (W_q) or Ekv (W_k, W_v). */
    private final float[] inWeights;
    private final float[] inBias;
    private final float[] outWeight;
    private final float[] outBias;

    // cache: keys [B, capacity, KVH, D], values [B, capacity, KVH, Dv]
    private float[] keyCache;
    private float[] valueCache;
    private int cacheBatch;
    private int capacity;
    private int length;

    // scratch, grown on demand
    private float[] qBuf = new float[0];
    private float[] kBuf = new float[0];
    private float[] vBuf = new float[0];
    private float[] attnBuf = new float[0];

    private MultiHeadAttention(Builder b) {
        embedDim = b.embedDim;
        kvEmbedDim = b.kvEmbedDim == 0 ? b.embedDim : b.kvEmbedDim;
        heads = b.heads;
        kvHeads = b.kvHeads == 0 ? b.heads : b.kvHeads;
        headDim = b.headDim == 0 ? embedDim / heads : b.headDim;
        valueDim = b.valueDim == 0 ? headDim : b.valueDim;
        if (b.headDim == 0 && embedDim % heads != 0) {
            throw new IllegalArgumentException("embedDim (" + embedDim + ") must be a multiple of heads (" + heads
                    + ") unless headDim is given");
        }
        scale = Float.isNaN(b.scale) ? AttentionProblem.defaultScale(headDim) : b.scale;
        score = b.score;
        // validates heads, kvHeads, dims and the scale
        problem(1, 1, 1);
        kernels = b.kernels == null ? Attn4j.kernels() : b.kernels;
        int rows = Math.addExact(Math.multiplyExact(heads, headDim), Math.multiplyExact(kvHeads, headDim + valueDim));
        inWeights = new float[Math.addExact(Math.multiplyExact(heads * headDim, embedDim),
                Math.multiplyExact(kvHeads * (headDim + valueDim), kvEmbedDim))];
        outWeight = new float[Math.multiplyExact(embedDim, heads * valueDim)];
        inBias = b.bias ? new float[rows] : null;
        outBias = b.bias ? new float[embedDim] : null;
    }

    /** A builder for a layer of model width {@code embedDim} with {@code heads} query heads. */
    public static Builder builder(int embedDim, int heads) {
        return new Builder(embedDim, heads);
    }

    /** Configures a {@link MultiHeadAttention}; unset sizes take the usual defaults. */
    public static final class Builder {
        private final int embedDim;
        private final int heads;
        private int kvHeads;
        private int headDim;
        private int valueDim;
        private int kvEmbedDim;
        private boolean bias = true;
        private float scale = Float.NaN;
        private ScoreFunction score = ScoreFunction.dot();
        private Kernels kernels;

        private Builder(int embedDim, int heads) {
            if (embedDim < 1 || heads < 1) {
                throw new IllegalArgumentException("embedDim and heads must be >= 1 but are " + embedDim + " and " + heads);
            }
            this.embedDim = embedDim;
            this.heads = heads;
        }

        /** Key/value heads (default {@code heads}; fewer is GQA, 1 is MQA); must divide {@code heads}. */
        public Builder kvHeads(int n) {
            kvHeads = positive("kvHeads", n);
            return this;
        }

        /** Head size of Q and K (default {@code embedDim / heads}). */
        public Builder headDim(int n) {
            headDim = positive("headDim", n);
            return this;
        }

        /** Head size of V (default {@code headDim}). */
        public Builder valueDim(int n) {
            valueDim = positive("valueDim", n);
            return this;
        }

        /** Width of the memory that keys and values are projected from (default {@code embedDim}). */
        public Builder kvEmbedDim(int n) {
            kvEmbedDim = positive("kvEmbedDim", n);
            return this;
        }

        /** Whether the projections have biases (default true). */
        public Builder bias(boolean b) {
            bias = b;
            return this;
        }

        /** The score scale (default {@code 1/√headDim}). */
        public Builder scale(float s) {
            scale = s;
            return this;
        }

        /** The score function (default {@link ScoreFunction#dot()}, i.e. scaled dot-product attention). */
        public Builder score(ScoreFunction f) {
            score = Objects.requireNonNull(f, "score function must not be null");
            return this;
        }

        /** The kernels to run on (default {@link Attn4j#kernels()}). */
        public Builder kernels(Kernels k) {
            kernels = Objects.requireNonNull(k, "kernels must not be null");
            return this;
        }

        /** Builds the layer with zero weights. */
        public MultiHeadAttention build() {
            return new MultiHeadAttention(this);
        }

        private static int positive(String name, int n) {
            if (n < 1) {
                throw new IllegalArgumentException(name + " must be >= 1 but is " + n);
            }
            return n;
        }
    }

    // ------------------------------------------------------------------ configuration and weights

    /** The problem of one call with the given sizes. */
    public AttentionProblem problem(int batch, int seqQ, int seqK) {
        return new AttentionProblem(batch, heads, kvHeads, seqQ, seqK, headDim, valueDim, scale, 0f);
    }

    /** Model width E. */
    public int embedDim() {
        return embedDim;
    }

    /** Width of the key/value memory. */
    public int kvEmbedDim() {
        return kvEmbedDim;
    }

    /** Query heads. */
    public int heads() {
        return heads;
    }

    /** Key/value heads. */
    public int kvHeads() {
        return kvHeads;
    }

    /** Head size of Q and K. */
    public int headDim() {
        return headDim;
    }

    /** Head size of V. */
    public int valueDim() {
        return valueDim;
    }

    /** {@code W_q [H·D, E]}, a writable view of the layer's weight. */
    public Tensor wq() {
        return Tensor.view(inWeights, 0, new int[] {heads * headDim, embedDim}, new long[] {embedDim, 1});
    }

    /** {@code W_k [KVH·D, Ekv]}, a writable view. */
    public Tensor wk() {
        return Tensor.view(inWeights, (long) heads * headDim * embedDim, new int[] {kvHeads * headDim, kvEmbedDim},
                new long[] {kvEmbedDim, 1});
    }

    /** {@code W_v [KVH·Dv, Ekv]}, a writable view. */
    public Tensor wv() {
        return Tensor.view(inWeights, (long) heads * headDim * embedDim + (long) kvHeads * headDim * kvEmbedDim,
                new int[] {kvHeads * valueDim, kvEmbedDim}, new long[] {kvEmbedDim, 1});
    }

    /** The packed {@code [W_q; W_k; W_v]} of {@link Kernels#projectQkv}; only when {@code Ekv == E}. */
    public Tensor qkvWeight() {
        requireSelf();
        return Tensor.of(inWeights, Kernels.qkvRows(problem(1, 1, 1)), embedDim);
    }

    /** {@code W_o [E, H·Dv]}, a writable view. */
    public Tensor wo() {
        return Tensor.of(outWeight, embedDim, heads * valueDim);
    }

    /** {@code b_q [H·D]}, a writable view, or null without biases. */
    public Tensor bq() {
        return inBias == null ? null : Tensor.of(inBias, heads * headDim);
    }

    /** {@code b_k [KVH·D]}, a writable view, or null without biases. */
    public Tensor bk() {
        return inBias == null ? null : Tensor.view(inBias, heads * headDim, new int[] {kvHeads * headDim}, new long[] {1});
    }

    /** {@code b_v [KVH·Dv]}, a writable view, or null without biases. */
    public Tensor bv() {
        return inBias == null ? null
                : Tensor.view(inBias, (long) (heads + kvHeads) * headDim, new int[] {kvHeads * valueDim}, new long[] {1});
    }

    /** {@code b_o [E]}, a writable view, or null without biases. */
    public Tensor bo() {
        return outBias == null ? null : Tensor.of(outBias, embedDim);
    }

    /** Fills the weights with Glorot/Xavier-uniform values of {@code seed} and the biases with zeros; returns this. */
    public MultiHeadAttention initialize(long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        fill(rnd, inWeights, 0, heads * headDim * embedDim, embedDim, heads * headDim);
        int kOff = heads * headDim * embedDim;
        fill(rnd, inWeights, kOff, kvHeads * headDim * kvEmbedDim, kvEmbedDim, kvHeads * headDim);
        int vOff = kOff + kvHeads * headDim * kvEmbedDim;
        fill(rnd, inWeights, vOff, kvHeads * valueDim * kvEmbedDim, kvEmbedDim, kvHeads * valueDim);
        fill(rnd, outWeight, 0, outWeight.length, heads * valueDim, embedDim);
        if (inBias != null) {
            Arrays.fill(inBias, 0f);
            Arrays.fill(outBias, 0f);
        }
        return this;
    }

    private static void fill(SplittableRandom rnd, float[] a, int from, int n, int fanIn, int fanOut) {
        double limit = Math.sqrt(6.0 / (fanIn + fanOut));
        for (int i = from; i < from + n; i++) {
            a[i] = (float) ((rnd.nextDouble() * 2 - 1) * limit);
        }
    }

    // ------------------------------------------------------------------ forward

    /** Self-attention {@code y = MHA(x, x, x)} under {@code mask}; see {@link #selfAttention(Tensor, Mask, Tensor, Tensor)}. */
    public void selfAttention(Tensor x, Mask mask, Tensor y) {
        selfAttention(x, mask, y, null);
    }

    /** Masked self-attention with the causal mask (query {@code i} sees keys {@code 0..i}). */
    public void causalSelfAttention(Tensor x, Tensor y) {
        selfAttention(x, Mask.causalTopLeft(), y, null);
    }

    /**
     * Self-attention of {@code x [B, S, E]} into {@code y [B, S, E]} (y may be x) under {@code mask};
     * when {@code weights [B, H, S, S]} is not null it receives the attention weights (softmax rows).
     */
    public void selfAttention(Tensor x, Mask mask, Tensor y, Tensor weights) {
        requireSelf();
        int[] bs = checkInput("x", x, embedDim);
        checkOutput(y, bs[0], bs[1]);
        AttentionProblem p = problem(bs[0], bs[1], bs[1]);
        Tensor q = scratchQ(p);
        Tensor k = scratchK(p);
        Tensor v = scratchV(p);
        kernels.projectQkv(p, x, qkvWeight(), inBias == null ? null : Tensor.of(inBias, inBias.length), q, k, v);
        attend(p, q, k, v, mask, y, weights);
    }

    /**
     * Cross-attention: queries from {@code x [B, Sq, E]}, keys and values from {@code memory [B, Sk, Ekv]},
     * into {@code y [B, Sq, E]}; {@code weights [B, H, Sq, Sk]} may be null.
     */
    public void crossAttention(Tensor x, Tensor memory, Mask mask, Tensor y, Tensor weights) {
        int[] bs = checkInput("x", x, embedDim);
        int[] ms = checkInput("memory", memory, kvEmbedDim);
        if (ms[0] != bs[0]) {
            throw new IllegalArgumentException("memory must have batch " + bs[0] + " (that of x) but has " + ms[0]);
        }
        checkOutput(y, bs[0], bs[1]);
        AttentionProblem p = problem(bs[0], bs[1], ms[1]);
        Tensor q = projectQueries(p, x);
        ensureKv(p);
        for (int b = 0; b < p.batch(); b++) {
            Tensor m = memory.select(0, b);
            kernels.linear(m, wk(), bk(), rows(kBuf, (long) b * ms[1] * kvHeads * headDim, ms[1], kvHeads * headDim));
            kernels.linear(m, wv(), bv(), rows(vBuf, (long) b * ms[1] * kvHeads * valueDim, ms[1], kvHeads * valueDim));
        }
        Tensor k = Tensor.bshd(kBuf, p.batch(), ms[1], kvHeads, headDim);
        Tensor v = Tensor.bshd(vBuf, p.batch(), ms[1], kvHeads, valueDim);
        attend(p, q, k, v, mask, y, weights);
    }

    // ------------------------------------------------------------------ KV cache

    /** Allocates (or reuses) a key/value cache for {@code batch} sequences of up to {@code capacity} positions, empty. */
    public void startCache(int batch, int capacity) {
        if (batch < 1 || capacity < 1) {
            throw new IllegalArgumentException("cache batch and capacity must be >= 1 but are " + batch + " and " + capacity);
        }
        long kn = (long) batch * capacity * kvHeads * headDim;
        long vn = (long) batch * capacity * kvHeads * valueDim;
        if (keyCache == null || keyCache.length < kn || valueCache.length < vn) {
            keyCache = new float[Math.toIntExact(kn)];
            valueCache = new float[Math.toIntExact(vn)];
        }
        cacheBatch = batch;
        this.capacity = capacity;
        length = 0;
    }

    /** Empties the cache (keeps its memory). */
    public void clearCache() {
        length = 0;
    }

    /**
     * Drops every cached position from {@code newLength} on (rolls back speculative or beam tokens);
     * {@code newLength} must be in {@code [0, cacheLength]}.
     */
    public void truncateCache(int newLength) {
        requireCache();
        if (newLength < 0 || newLength > length) {
            throw new IllegalArgumentException("newLength must be in [0, cacheLength=" + length + "] but is " + newLength);
        }
        length = newLength;
    }

    /** Positions held in the cache. */
    public int cacheLength() {
        return length;
    }

    /** The cache's capacity (0 before {@link #startCache}). */
    public int cacheCapacity() {
        return keyCache == null ? 0 : capacity;
    }

    /** The cached keys {@code [B, KVH, cacheLength, D]} (a read view of the layer's memory). */
    public Tensor cachedKeys() {
        requireCache();
        return cacheView(keyCache, headDim, 0, length);
    }

    /** The cached values {@code [B, KVH, cacheLength, Dv]}. */
    public Tensor cachedValues() {
        requireCache();
        return cacheView(valueCache, valueDim, 0, length);
    }

    /**
     * Projects the keys and values of {@code memory [B, T, Ekv]} and appends them to the cache without
     * computing outputs (an encoder memory for {@link #attendCache}, or a prompt's context).
     */
    public void append(Tensor memory) {
        requireCache();
        int[] ms = checkInput("memory", memory, kvEmbedDim);
        checkCacheBatch("memory", ms[0]);
        int t = ms[1];
        checkRoom(t);
        int kRow = kvHeads * headDim;
        int vRow = kvHeads * valueDim;
        for (int b = 0; b < ms[0]; b++) {
            Tensor m = memory.select(0, b);
            kernels.linear(m, wk(), bk(), rows(keyCache, ((long) b * capacity + length) * kRow, t, kRow));
            kernels.linear(m, wv(), bv(), rows(valueCache, ((long) b * capacity + length) * vRow, t, vRow));
        }
        length += t;
    }

    /**
     * Incremental decoding: appends the keys and values of {@code x [B, T, E]} (new tokens, T ≥ 1) to
     * the cache and writes {@code y [B, T, E]} = their self-attention over every cached position, causal
     * (aligned bottom-right). {@code weights [B, H, T, cacheLength + T]} (may be null) receives the
     * weights. Token by token this equals the rows of {@link #causalSelfAttention}.
     */
    public void decode(Tensor x, Tensor y, Tensor weights) {
        requireSelf();
        requireCache();
        int[] bs = checkInput("x", x, embedDim);
        checkCacheBatch("x", bs[0]);
        checkOutput(y, bs[0], bs[1]);
        int t = bs[1];
        checkRoom(t);
        AttentionProblem proj = problem(bs[0], t, t);
        Tensor q = scratchQ(proj);
        Tensor k = cacheView(keyCache, headDim, length, t);
        Tensor v = cacheView(valueCache, valueDim, length, t);
        int total = length + t;
        AttentionProblem p = problem(bs[0], t, total);
        checkWeights(weights, p);
        kernels.projectQkv(proj, x, qkvWeight(), inBias == null ? null : Tensor.of(inBias, inBias.length), q, k, v);
        length = total;
        attend(p, q, cacheView(keyCache, headDim, 0, total), cacheView(valueCache, valueDim, 0, total),
                Mask.causalBottomRight(), y, weights);
    }

    /**
     * Cross-attention of the queries of {@code x [B, T, E]} against the cached keys and values (see
     * {@link #append}) under {@code mask}, into {@code y [B, T, E]}; nothing is appended.
     * {@code weights [B, H, T, cacheLength]} may be null.
     */
    public void attendCache(Tensor x, Mask mask, Tensor y, Tensor weights) {
        requireCache();
        if (length == 0) {
            throw new IllegalStateException("the cache is empty: append a memory first");
        }
        int[] bs = checkInput("x", x, embedDim);
        checkCacheBatch("x", bs[0]);
        checkOutput(y, bs[0], bs[1]);
        AttentionProblem p = problem(bs[0], bs[1], length);
        checkWeights(weights, p);
        Tensor q = projectQueries(p, x);
        attend(p, q, cacheView(keyCache, headDim, 0, length), cacheView(valueCache, valueDim, 0, length), mask, y, weights);
    }

    // ------------------------------------------------------------------ internals

    /** attention with the layer's score function → weights on request → merge heads. */
    private void attend(AttentionProblem p, Tensor q, Tensor k, Tensor v, Mask mask, Tensor y, Tensor weights) {
        checkWeights(weights, p);
        Tensor attn = scratchAttn(p);
        kernels.attention(p, score, q, k, v, mask, attn);
        if (weights != null) {
            kernels.scores(p, score, q, k, mask, ScoreStage.SOFTMAX, weights);
        }
        kernels.mergeHeads(p, attn, wo(), bo(), y);
    }

    /** Q = x·W_qᵀ + b_q into the query scratch, one linear call per batch entry, as [B, H, Sq, D]. */
    private Tensor projectQueries(AttentionProblem p, Tensor x) {
        int sq = p.seqQ();
        int row = heads * headDim;
        qBuf = grow(qBuf, (long) p.batch() * sq * row);
        for (int b = 0; b < p.batch(); b++) {
            kernels.linear(x.select(0, b), wq(), bq(), rows(qBuf, (long) b * sq * row, sq, row));
        }
        return Tensor.bshd(qBuf, p.batch(), sq, heads, headDim);
    }

    /** A [rows, cols] row-major view of {@code a} at {@code offset}. */
    private static Tensor rows(float[] a, long offset, int rows, int cols) {
        return Tensor.view(a, offset, new int[] {rows, cols}, new long[] {cols, 1});
    }

    /** Positions [from, from + n) of a [B, capacity, KVH, dim] cache as a logical [B, KVH, n, dim] view. */
    private Tensor cacheView(float[] cache, int dim, int from, int n) {
        long d = dim;
        return Tensor.view(cache, from * kvHeads * d, new int[] {cacheBatch, kvHeads, n, dim},
                new long[] {(long) capacity * kvHeads * d, d, kvHeads * d, 1});
    }

    private Tensor scratchQ(AttentionProblem p) {
        qBuf = grow(qBuf, Tensor.count(p.qShape()));
        return Tensor.bhsd(qBuf, p.batch(), heads, p.seqQ(), headDim);
    }

    private Tensor scratchK(AttentionProblem p) {
        kBuf = grow(kBuf, Tensor.count(p.kShape()));
        return Tensor.bhsd(kBuf, p.batch(), kvHeads, p.seqK(), headDim);
    }

    private Tensor scratchV(AttentionProblem p) {
        vBuf = grow(vBuf, Tensor.count(p.vShape()));
        return Tensor.bhsd(vBuf, p.batch(), kvHeads, p.seqK(), valueDim);
    }

    private void ensureKv(AttentionProblem p) {
        kBuf = grow(kBuf, Tensor.count(p.kShape()));
        vBuf = grow(vBuf, Tensor.count(p.vShape()));
    }

    private Tensor scratchAttn(AttentionProblem p) {
        attnBuf = grow(attnBuf, Tensor.count(p.outShape()));
        return Tensor.bhsd(attnBuf, p.batch(), heads, p.seqQ(), valueDim);
    }

    private static float[] grow(float[] a, long n) {
        return a.length >= n ? a : new float[Math.toIntExact(n)];
    }

    private void requireSelf() {
        if (kvEmbedDim != embedDim) {
            throw new IllegalStateException("self-attention needs kvEmbedDim == embedDim but they are " + kvEmbedDim + " and "
                    + embedDim + " (this layer is for cross-attention)");
        }
    }

    private void requireCache() {
        if (keyCache == null) {
            throw new IllegalStateException("no key/value cache: call startCache(batch, capacity) first");
        }
    }

    private void checkCacheBatch(String name, int batch) {
        if (batch != cacheBatch) {
            throw new IllegalArgumentException(name + " must have the cache's batch " + cacheBatch + " but has " + batch);
        }
    }

    private void checkRoom(int t) {
        if (length + t > capacity) {
            throw new IllegalArgumentException("the cache holds " + length + " of " + capacity + " positions and cannot take "
                    + t + " more");
        }
    }

    /** Checks {@code [B, S, width]} and returns {B, S}. */
    private static int[] checkInput(String name, Tensor x, int width) {
        Checks.rank(name, x, 3);
        if (x.dim(2) != width) {
            throw new IllegalArgumentException(name + " must have shape [batch, seq, " + width + "] but has "
                    + Arrays.toString(x.shape()));
        }
        if (x.dim(0) < 1 || x.dim(1) < 1) {
            throw new IllegalArgumentException(name + " must have batch and seq >= 1 but has shape " + Arrays.toString(x.shape()));
        }
        return new int[] {x.dim(0), x.dim(1)};
    }

    private void checkOutput(Tensor y, int batch, int seq) {
        Checks.shape("y", y, new int[] {batch, seq, embedDim}, "batch", "seq", "embedDim");
    }

    private static void checkWeights(Tensor weights, AttentionProblem p) {
        if (weights != null) {
            Checks.shape("weights", weights, p.scoreShape(), "batch", "heads", "seqQ", "seqK");
        }
    }

    @Override
    public String toString() {
        return "MultiHeadAttention[E=" + embedDim + ", Ekv=" + kvEmbedDim + ", heads=" + heads + ", kvHeads=" + kvHeads
                + ", headDim=" + headDim + ", valueDim=" + valueDim + ", bias=" + (inBias != null) + ", score=" + score
                + ", " + kernels.backendName() + "]";
    }
}
