package dev.attn4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.attn4j.api.AttentionProblem;
import dev.attn4j.api.Attn4j;
import dev.attn4j.api.DType;
import dev.attn4j.api.Kernels;
import dev.attn4j.api.Mask;
import dev.attn4j.api.Tensor;
import dev.attn4j.reference.ReferenceBackend;
import dev.attn4j.spi.Availability;
import dev.attn4j.spi.Backend;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * On a GPU: the public device API (allocate, copy in and out, pinned buffers and streams, views in any layout)
 * and the FP16/BF16 flash kernels through the SPI (the facade takes float32 only), against the oracle on the
 * same rounded inputs. Skipped, with the probe's reason, where CUDA cannot run.
 */
class CudaDeviceTensorTest {
    private static final Kernels ORACLE = Kernels.of(new ReferenceBackend());

    @BeforeEach
    void requireCuda() {
        Availability a = new CudaBackendProvider().probe();
        assumeTrue(a.available(), a.reason());
    }

    private static Tensor random(SplittableRandom rnd, int... shape) {
        float[] a = new float[Math.toIntExact(Tensor.count(shape))];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) rnd.nextDouble(-1, 1);
        }
        return Tensor.of(a, shape);
    }

    private static void assertClose(String what, Tensor want, Tensor got, double tol) {
        float[] w = want.toFloatArray();
        float[] g = got.toFloatArray();
        for (int i = 0; i < w.length; i++) {
            assertTrue(Math.abs(w[i] - g[i]) <= tol * Math.max(1, Math.abs(w[i])) || w[i] == g[i],
                    what + " element " + i + ": want " + w[i] + " got " + g[i]);
        }
    }

    /** A host copy of {@code t} in another storage type (rounded). */
    private static Tensor as(Tensor t, DType dtype) {
        int[] shape = t.shape();
        Tensor out = Tensor.of(java.lang.foreign.MemorySegment.ofArray(new byte[(int) (t.elementCount() * dtype.byteSize())]),
                dtype, shape);
        float[] v = t.toFloatArray();
        for (int i = 0; i < v.length; i++) {
            out.setFloat(i, v[i]);
        }
        return out;
    }

    @Test
    void copiesRoundTripThroughDeviceTensorsPinnedBuffersAndStreams() {
        try (CudaContext ctx = CudaContext.open(0)) {
            SplittableRandom rnd = new SplittableRandom(1);
            Tensor host = random(rnd, 3, 5, 7);
            try (DeviceTensor d = ctx.allocate(DType.FLOAT32, 3, 5, 7);
                 DeviceTensor h = ctx.allocate(DType.FLOAT16, 3, 5, 7);
                 PinnedBuffer pinned = ctx.allocatePinned(4L * 105);
                 CudaStream stream = ctx.createStream()) {
                d.copyFrom(host);
                ctx.copy(d.asTensor(), h.asTensor());  // device to device, converting to FP16
                Tensor back = Tensor.zeros(3, 5, 7);
                h.copyTo(back);
                assertClose("fp16 round trip", host, back, 1e-3);
                stream.copyAsync(d, pinned, 0);
                stream.synchronize();
                assertEquals(host.get(2, 4, 6), pinned.segment().getAtIndex(ValueLayout.JAVA_FLOAT, 104));
                Tensor transposed = Tensor.zeros(7, 5, 3);
                ctx.copy(d.view(0, new int[] {7, 5, 3}, new long[] {1, 7, 35}).asTensor(), transposed);
                assertEquals(host.get(1, 2, 3), transposed.get(3, 2, 1));
            }
            DeviceTensor closed = ctx.allocate(DType.FLOAT32, 4);
            closed.close();
            assertThrows(IllegalStateException.class, closed::asTensor);
        }
    }

    @Test
    void halfPrecisionFlashAttentionOnDeviceTensors() {
        Kernels cuda = Attn4j.kernels(CudaBackendProvider.NAME);
        Backend backend = cuda.backend();
        SplittableRandom rnd = new SplittableRandom(2);
        try (CudaContext ctx = CudaContext.open(0)) {
            for (int d : new int[] {64, 128}) {
                AttentionProblem p = AttentionProblem.of(2, 8, 2, 129, 257, d);
                Tensor q = random(rnd, p.qShape());
                Tensor k = random(rnd, p.kShape());
                Tensor v = random(rnd, p.vShape());
                for (DType dtype : new DType[] {DType.FLOAT16, DType.BFLOAT16}) {
                    for (Mask mask : new Mask[] {Mask.none(), Mask.causalBottomRight(), Mask.slidingWindow(16, 0, dev.attn4j.api.Alignment.topLeft())}) {
                        try (DeviceTensor qd = ctx.allocate(dtype, p.qShape());
                             DeviceTensor kd = ctx.allocate(dtype, p.kShape());
                             DeviceTensor vd = ctx.allocate(dtype, p.vShape());
                             DeviceTensor od = ctx.allocate(dtype, p.outShape());
                             DeviceTensor ld = ctx.allocate(DType.FLOAT32, p.batch(), p.heads(), p.seqQ())) {
                            Tensor qh = as(q, dtype);
                            Tensor kh = as(k, dtype);
                            Tensor vh = as(v, dtype);
                            qd.copyFrom(qh);
                            kd.copyFrom(kh);
                            vd.copyFrom(vh);
                            backend.attention().attention(p, qd.asTensor(), kd.asTensor(), vd.asTensor(), mask,
                                    od.asTensor(), ld.asTensor());
                            Tensor want = Tensor.zeros(p.outShape());
                            Tensor wantLse = Tensor.zeros(p.batch(), p.heads(), p.seqQ());
                            ORACLE.attention(p, qh, kh, vh, mask, want, wantLse);
                            Tensor got = Tensor.zeros(p.outShape());
                            Tensor gotLse = Tensor.zeros(p.batch(), p.heads(), p.seqQ());
                            od.copyTo(got);
                            ld.copyTo(gotLse);
                            // the output is rounded to the storage type: half an ulp of FP16 (2^-11) or BF16 (2^-8)
                            double tol = dtype == DType.FLOAT16 ? 2e-3 : 1e-2;
                            String what = dtype + " d=" + d + " " + mask;
                            assertClose(what + " out", want, got, tol);
                            assertClose(what + " lse", wantLse, gotLse, 1e-4);
                        }
                    }
                }
            }
        }
    }
}
