package dev.attn4j.cuda;

import static dev.attn4j.testing.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.attn4j.api.AttentionProblem;
import dev.attn4j.api.DType;
import dev.attn4j.api.Kernels;
import dev.attn4j.api.LocalP;
import dev.attn4j.api.Mask;
import dev.attn4j.api.ScoreFunction;
import dev.attn4j.api.Tensor;
import dev.attn4j.testing.ClassicParityTest;
import dev.attn4j.testing.Fixtures;
import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The literature family on tensors that live on the (emulated) device, in strided layouts: used in place, results
 * land through their strides, the in-place forms of add, addSinusoidal and linearResidual (whose residual cuBLAS
 * then adds as C) hold, the broadcasts the add kernel cannot take as a period are materialized, and no device memory
 * is kept past the workspace's high-water mark.
 */
class EmulatedClassicDeviceResidentTest {
    private static final Kernels ORACLE = Fixtures.ORACLE;
    private final EmulatedDevice device = new EmulatedDevice();
    private final Workspace workspace = new Workspace(device);
    private final Kernels cuda = Kernels.of(new CudaBackend("emulated", new CudaOps(device, KernelTable.load(), workspace),
            body -> {
                try {
                    body.run();
                } finally {
                    workspace.reset();
                }
            }));

    /** A float32 device tensor with the given strides holding the host tensor's values. */
    private Tensor onDevice(Tensor host, long[] strides) {
        int[] shape = host.shape();
        long span = 1;
        for (int a = 0; a < shape.length; a++) {
            span += (shape[a] - 1L) * strides[a];
        }
        long bytes = span * 4;
        long address = device.malloc(bytes, "test tensor");
        Tensor t = Tensor.view(MemorySegment.ofAddress(address).reinterpret(bytes), DType.FLOAT32, 0, shape, strides);
        Tensor staging = Tensor.view(MemorySegment.ofArray(new byte[(int) bytes]), DType.FLOAT32, 0, shape, strides);
        float[] values = host.toFloatArray();
        int[] idx = new int[shape.length];
        for (float v : values) {
            staging.setFloat(staging.indexOf(idx), v);
            Tensor.increment(idx, shape);
        }
        device.upload(address, staging.segment(), 0, bytes);
        return t;
    }

    private Tensor onDevice(Tensor host) {
        return onDevice(host, Tensor.contiguousStrides(host.shape()));
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
        return Tensor.of(Fixtures.random(rnd, Math.toIntExact(Tensor.count(shape)), -1f, 1f), shape);
    }

    /** bshd strides of a logical [B, H, S, D] tensor. */
    private static long[] bshd(int[] s) {
        return new long[] {(long) s[2] * s[1] * s[3], s[3], (long) s[1] * s[3], 1};
    }

    @Test
    void everyScoreFunctionOnDeviceTensorsInBshdLayout() {
        SplittableRandom rnd = new SplittableRandom(11);
        AttentionProblem p = AttentionProblem.of(2, 4, 2, 17, 45, 40).withValueDim(24);
        Tensor q = random(rnd, p.qShape());
        Tensor k = random(rnd, p.kShape());
        Tensor v = random(rnd, p.vShape());
        Mask mask = Mask.causalBottomRight().and(Mask.keyLengths(40, 45));
        for (Map.Entry<String, ScoreFunction> e : ClassicParityTest.scoreFunctions(p, 12, true).entrySet()) {
            Tensor out = onDevice(Tensor.zeros(p.outShape()), bshd(p.outShape()));
            Tensor lse = onDevice(Tensor.zeros(p.batch(), p.heads(), p.seqQ()));
            cuda.attention(p, e.getValue(), onDevice(q, bshd(p.qShape())), onDevice(k), onDevice(v, bshd(p.vShape())), mask,
                    out, lse);
            Tensor want = Tensor.zeros(p.outShape());
            Tensor wantLse = Tensor.zeros(p.batch(), p.heads(), p.seqQ());
            ORACLE.attention(p, e.getValue(), q, k, v, mask, want, wantLse);
            assertClose(e.getKey() + " out", want, toHost(out), 1e-5, 11);
            assertClose(e.getKey() + " lse", wantLse, toHost(lse), 1e-5, 11);

            Tensor centres = onDevice(Tensor.zeros(p.batch(), p.heads(), p.seqQ()));
            LocalP local = ClassicParityTest.localP(p, 13, 6);
            cuda.localPAttention(p, e.getValue(), local, onDevice(q, bshd(p.qShape())), onDevice(k), onDevice(v), mask, out,
                    centres);
            Tensor wantCentres = Tensor.zeros(p.batch(), p.heads(), p.seqQ());
            ORACLE.localPAttention(p, e.getValue(), local, q, k, v, mask, want, wantCentres);
            assertClose(e.getKey() + " local-p centres", wantCentres, toHost(centres), 1e-5, 13);
            assertClose(e.getKey() + " local-p out", want, toHost(out), 1e-5, 13);
        }
    }

    @Test
    void linearResidualInPlaceOnTheDeviceAddsTheResidualAsC() {
        SplittableRandom rnd = new SplittableRandom(21);
        Tensor x = random(rnd, 9, 33);
        Tensor w = random(rnd, 17, 33);
        Tensor bias = random(rnd, 17);
        Tensor residual = random(rnd, 9, 17);
        Tensor want = Tensor.zeros(9, 17);
        ORACLE.linearResidual(x, w, bias, residual, want);
        for (boolean withBias : new boolean[] {true, false}) {
            Tensor wantHere = want;
            if (!withBias) {
                wantHere = Tensor.zeros(9, 17);
                ORACLE.linearResidual(x, w, null, residual, wantHere);
            }
            Tensor y = onDevice(residual);
            cuda.linearResidual(onDevice(x), onDevice(w), withBias ? onDevice(bias) : null, y, y);
            assertClose("linearResidual in place, bias " + withBias, wantHere, toHost(y), 1e-5, 21);
        }
        // a transposed residual on the device into a separate device y: the epilogue reads it through its strides
        Tensor rt = onDevice(residual, new long[] {1, 9});
        Tensor y = onDevice(Tensor.zeros(9, 17));
        cuda.linearResidual(onDevice(x), w, bias, rt, y);
        assertClose("linearResidual strided residual", want, toHost(y), 1e-5, 21);
    }

    @Test
    void addAndSinusoidalInPlaceAndEveryBroadcast() {
        SplittableRandom rnd = new SplittableRandom(31);
        Tensor a = random(rnd, 3, 5, 7);
        for (int[] bShape : new int[][] {{3, 5, 7}, {7}, {5, 7}, {1, 1, 1}, {5, 1}, {3, 1, 7}}) {
            Tensor b = random(rnd, bShape);
            Tensor want = Tensor.zeros(3, 5, 7);
            ORACLE.add(a, b, want);
            Tensor y = onDevice(a);
            cuda.add(y, onDevice(b), y);
            assertClose("add in place, b " + java.util.Arrays.toString(bShape), want, toHost(y), 1e-6, 31);
            Tensor host = Tensor.zeros(3, 5, 7);
            cuda.add(a, b, host);
            assertClose("add on the host, b " + java.util.Arrays.toString(bShape), want, host, 1e-6, 31);
        }
        Tensor want = Tensor.zeros(3, 5, 7);
        ORACLE.addSinusoidal(a, 17, want);
        Tensor y = onDevice(a, new long[] {1, 3, 15});  // a permuted layout, in place
        cuda.addSinusoidal(y, 17, y);
        assertClose("addSinusoidal in place", want, toHost(y), 1e-6, 31);
    }

    @Test
    void broadcastPeriods() {
        assertEquals(35, CudaClassicOps.broadcastPeriod(Tensor.zeros(5, 7).broadcastTo(3, 5, 7)));
        assertEquals(7, CudaClassicOps.broadcastPeriod(Tensor.zeros(7).broadcastTo(3, 5, 7)));
        assertEquals(1, CudaClassicOps.broadcastPeriod(Tensor.zeros(1).broadcastTo(3, 5, 7)));
        assertEquals(-1, CudaClassicOps.broadcastPeriod(Tensor.zeros(5, 1).broadcastTo(3, 5, 7)));
        assertEquals(-1, CudaClassicOps.broadcastPeriod(Tensor.zeros(7, 5).permute(1, 0)));
        assertEquals(1, CudaClassicOps.sortedKeys(1));
        assertEquals(2, CudaClassicOps.sortedKeys(2));
        assertEquals(64, CudaClassicOps.sortedKeys(37));
        assertEquals(1024, CudaClassicOps.sortedKeys(1024));
        assertEquals(8192, CudaClassicOps.sortedKeys(5000));
    }

    @Test
    void nothingIsKeptPastTheWorkspaceHighWaterMark() {
        SplittableRandom rnd = new SplittableRandom(41);
        AttentionProblem p = AttentionProblem.of(1, 2, 1, 9, 21, 16);
        Tensor q = random(rnd, p.qShape());
        Tensor k = random(rnd, p.kShape());
        Tensor v = random(rnd, p.vShape());
        Map<String, ScoreFunction> functions = ClassicParityTest.scoreFunctions(p, 42, false);
        Runnable everything = () -> {
            for (ScoreFunction f : functions.values()) {
                cuda.attention(p, f, q, k, v, Mask.causalTopLeft(), Tensor.zeros(p.outShape()));
                cuda.topKAttention(p, f, q, k, v, Mask.none(), 3, Tensor.zeros(p.outShape()), new int[9 * 2 * 3]);
                cuda.sampledAttention(p, f, q, k, v, Mask.none(), 5, Tensor.zeros(p.outShape()), null);
                cuda.localPAttention(p, f, ClassicParityTest.localP(p, 43, 3), q, k, v, Mask.none(),
                        Tensor.zeros(p.outShape()), null);
            }
            cuda.linearResidual(random(rnd, 4, 8), random(rnd, 6, 8), null, random(rnd, 4, 6), Tensor.zeros(4, 6));
        };
        everything.run();
        long steady = device.liveBytes();
        everything.run();
        everything.run();
        assertEquals(steady, device.liveBytes(), "the classic kernels allocate nothing per call in steady state");
        workspace.close();
        assertTrue(device.liveBytes() == 0, "everything the calls allocated lives in the workspace: " + device.liveBytes());
    }
}
