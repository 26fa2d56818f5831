package dev.attn4j.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The README's example, verbatim between the markers: a small encoder layer and a decode loop through the layer. */
class ReadmeExampleTest {

    private static float[] random(long seed, int n, float scale) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) ((rnd.nextDouble() * 2 - 1) * scale);
        }
        return a;
    }

    @Test
    void encoderLayerAndDecodeLoop() {
        // --8<-- [start:readme]
        Kernels k = Attn4j.kernels();
        int batch = 2, seq = 16, model = 64, heads = 4, ffn = 256;

        // ---- a post-LN Transformer encoder layer (Vaswani et al. 2017)
        MultiHeadAttention selfAttn = MultiHeadAttention.builder(model, heads).build().initialize(42);
        Tensor w1 = Tensor.of(random(1, ffn * model, 0.1f), ffn, model);
        Tensor b1 = Tensor.zeros(ffn);
        Tensor w2 = Tensor.of(random(2, model * ffn, 0.1f), model, ffn);
        Tensor b2 = Tensor.zeros(model);
        Tensor gamma = Tensor.of(filled(model, 1f), model);
        Tensor beta = Tensor.zeros(model);

        Tensor x = Tensor.of(random(3, batch * seq * model, 1f), batch, seq, model);   // token embeddings
        k.addSinusoidal(x, 0, x);                                                     // + PE(pos)
        Tensor a = Tensor.zeros(batch, seq, model);
        selfAttn.selfAttention(x, Mask.keyLengths(16, 11), a);                        // padding mask
        k.add(a, x, a);                                                               // residual
        k.layerNorm(a, 2, gamma, beta, 1e-5f, a, null, null);
        Tensor rows = a.reshape(batch * seq, model);
        Tensor h = Tensor.zeros(batch * seq, ffn);
        k.linear(rows, w1, b1, h);
        k.gelu(h, GeluApproximation.NONE, h);
        Tensor encoded = Tensor.zeros(batch * seq, model);
        k.linearResidual(h, w2, b2, rows, encoded);                                   // h·W2ᵀ + b2 + rows, fused
        k.layerNorm(encoded, 1, gamma, beta, 1e-5f, encoded, null, null);

        // ---- incremental decoding with the layer's KV cache (multi-query attention: one KV head)
        MultiHeadAttention decoder = MultiHeadAttention.builder(model, heads).kvHeads(1).build().initialize(7);
        decoder.startCache(1, 64);
        Tensor prompt = Tensor.of(random(4, 5 * model, 1f), 1, 5, model);
        k.addSinusoidal(prompt, 0, prompt);
        Tensor promptOut = Tensor.zeros(1, 5, model);
        decoder.decode(prompt, promptOut, null);                                      // prefill: 5 positions cached
        Tensor token = Tensor.of(promptOut.narrow(1, 4, 1).toFloatArray(), 1, 1, model);
        Tensor next = Tensor.zeros(1, 1, model);
        for (int step = 0; step < 8; step++) {
            k.addSinusoidal(token, decoder.cacheLength(), token);                     // position of the new token
            Tensor weights = Tensor.zeros(1, heads, 1, decoder.cacheLength() + 1);
            decoder.decode(token, next, weights);                                     // appends K/V, attends causally
            token = Tensor.of(next.toFloatArray(), 1, 1, model);                      // feed the output back in
        }
        // --8<-- [end:readme]

        assertEquals(13, decoder.cacheLength());
        for (float v : encoded.toFloatArray()) {
            assertTrue(Float.isFinite(v));
        }
        for (float v : next.toFloatArray()) {
            assertTrue(Float.isFinite(v));
        }
    }

    private static float[] filled(int n, float value) {
        float[] a = new float[n];
        Arrays.fill(a, value);
        return a;
    }
}
