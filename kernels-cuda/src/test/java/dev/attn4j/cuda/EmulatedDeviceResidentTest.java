package dev.attn4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.attn4j.api.AttentionProblem;
import dev.attn4j.api.DType;
import dev.attn4j.api.Kernels;
import dev.attn4j.api.Mask;
import dev.attn4j.api.ScoreStage;
import dev.attn4j.api.Tensor;
import dev.attn4j.reference.ReferenceBackend;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Tensors that live on the (emulated) device are used in place, whatever their layout and storage type:
 * nothing is staged for them and results land in them through their strides. FP16/BF16 inputs (through the
 * SPI: the facade accepts float32 storage only) take the half-precision flash variants and the GemmEx path.
 */
class EmulatedDeviceResidentTest {
    private static final Kernels ORACLE = Kernels.of(new ReferenceBackend());
    private final EmulatedDevice device = new EmulatedDevice();
    private final Workspace workspace = new Workspace(device);
    private final CudaBackend backend = new CudaBackend("emulated", new CudaOps(device, KernelTable.load(), workspace),
            body -> {
                try {
                    body.run();
                } finally {
                    workspace.reset();
                }
            });
    private final Kernels cuda = Kernels.of(backend);

    /** A device tensor of {@code dtype} with the given strides holding the host tensor's values. */
    private Tensor onDevice(Tensor host, DType dtype, long[] strides) {
        int[] shape = host.shape();
        long span = 1;
        for (int a = 0; a < shape.length; a++) {
            span += (shape[a] - 1L) * strides[a];
        }
        long bytes = span * dtype.byteSize();
        long address = device.malloc(bytes, "test tensor");
        Tensor t = Tensor.view(MemorySegment.ofAddress(address).reinterpret(bytes), dtype, 0, shape, strides);
        Tensor staging = Tensor.view(MemorySegment.ofArray(new byte[(int) bytes]), dtype, 0, shape, strides);
        float[] values = host.toFloatArray();
        int[] idx = new int[shape.length];
        for (float v : values) {
            staging.setFloat(staging.indexOf(idx), v);
            Tensor.increment(idx, shape);
        }
        device.upload(address, staging.segment(), 0, bytes);
        return t;
    }

    /** The values of a device tensor, read back through its strides. */
    private Tensor toHost(Tensor dev) {
        long bytes = dev.segment().byteSize();
        MemorySegment copy = MemorySegment.ofArray(new byte[(int) bytes]);
        device.download(dev.segment().address(), copy, 0, bytes);
        Tensor view = Tensor.view(copy, dev.dtype(), dev.offset(), dev.shape(), dev.strides());
        return Tensor.of(view.toFloatArray(), dev.shape());
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

    /** bshd strides of a logical [B, H, S, D] tensor. */
    private static long[] bshd(int[] s) {
        return new long[] {(long) s[2] * s[1] * s[3], s[3], (long) s[1] * s[3], 1};
    }

    @Test
    void attentionOnDeviceTensorsInAnyLayoutAndType() {
        SplittableRandom rnd = new SplittableRandom(42);
        AttentionProblem p = AttentionProblem.of(2, 4, 2, 17, 33, 40);
        Tensor q = random(rnd, p.qShape());
        Tensor k = random(rnd, p.kShape());
        Tensor v = random(rnd, p.vShape());
        Mask mask = Mask.causalBottomRight().and(Mask.keyLengths(30, 33));
        for (DType dtype : new DType[] {DType.FLOAT32, DType.FLOAT16, DType.BFLOAT16}) {
            Tensor qd = onDevice(q, dtype, bshd(p.qShape()));
            Tensor kd = onDevice(k, dtype, Tensor.contiguousStrides(p.kShape()));
            Tensor vd = onDevice(v, dtype, bshd(p.vShape()));
            Tensor out = onDevice(Tensor.zeros(p.outShape()), DType.FLOAT32, bshd(p.outShape()));
            Tensor lse = onDevice(Tensor.zeros(p.batch(), p.heads(), p.seqQ()), DType.FLOAT32,
                    Tensor.contiguousStrides(p.batch(), p.heads(), p.seqQ()));
            long before = device.liveBytes();
            if (dtype == DType.FLOAT32) {
                cuda.attention(p, qd, kd, vd, mask, out, lse);
            } else {
                // the facade accepts float32 storage only (for now): half precision is reached through the SPI
                backend.attention().attention(p, qd, kd, vd, mask, out, lse);
            }
            // the oracle sees the same rounded inputs
            Tensor want = Tensor.zeros(p.outShape());
            Tensor wantLse = Tensor.zeros(p.batch(), p.heads(), p.seqQ());
            ORACLE.attention(p, toHost(qd), toHost(kd), toHost(vd), mask, want, wantLse);
            // FP16/BF16 outputs are rounded to the storage type before they are widened into out
            double tol = dtype == DType.FLOAT32 ? 1e-5 : dtype == DType.FLOAT16 ? 2e-3 : 1e-2;
            assertClose(dtype + " out", want, toHost(out), tol);
            assertClose(dtype + " lse", wantLse, toHost(lse), 1e-5);
            assertTrue(device.liveBytes() >= before, "workspace kept for the next call");
        }
    }

    @Test
    void halfPrecisionScoresGoThroughGemmEx() {
        SplittableRandom rnd = new SplittableRandom(7);
        AttentionProblem p = AttentionProblem.of(1, 6, 3, 9, 13, 24);
        Tensor qd = onDevice(random(rnd, p.qShape()), DType.FLOAT16, Tensor.contiguousStrides(p.qShape()));
        Tensor kd = onDevice(random(rnd, p.kShape()), DType.FLOAT16, bshd(p.kShape()));
        for (ScoreStage stage : ScoreStage.values()) {
            Tensor scores = onDevice(Tensor.zeros(p.scoreShape()), DType.FLOAT32, Tensor.contiguousStrides(p.scoreShape()));
            backend.attention().scores(p, qd, kd, Mask.causalTopLeft(), stage, scores);
            Tensor want = Tensor.zeros(p.scoreShape());
            ORACLE.scores(p, toHost(qd), toHost(kd), Mask.causalTopLeft(), stage, want);
            assertClose("scores " + stage, want, toHost(scores), 1e-5);
        }
    }

    @Test
    void workspaceStopsGrowingAtTheHighWaterMark() {
        SplittableRandom rnd = new SplittableRandom(3);
        AttentionProblem p = AttentionProblem.of(1, 2, 2, 8, 8, 16);
        Tensor q = random(rnd, p.qShape());
        Tensor out = Tensor.zeros(p.outShape());
        cuda.attention(p, q, q, q, Mask.none(), out);
        long steady = device.liveBytes();
        for (int i = 0; i < 3; i++) {
            cuda.attention(p, q, q, q, Mask.none(), out);
        }
        assertEquals(steady, device.liveBytes(), "no device memory is allocated or leaked per call in steady state");
    }
}
