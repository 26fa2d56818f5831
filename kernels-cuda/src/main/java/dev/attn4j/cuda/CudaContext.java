package dev.attn4j.cuda;

import dev.attn4j.api.DType;
import dev.attn4j.api.Tensor;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantLock;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.JCudaDriver;

/**
 * One GPU as attn4j uses it: the device's primary context (shared with the CUDA runtime, so PyTorch's
 * pointers are valid here), attn4j's kernel module loaded from the fatbin with {@code cuModuleLoadData}
 * (every kernel of the manifest resolved at open), a default stream with its cuBLAS handle, and a scratch
 * workspace. It allocates {@link DeviceTensor}s, wraps the host framework's device pointers, allocates
 * {@link PinnedBuffer}s and {@link CudaStream}s, and copies between host and device.
 *
 * <p>Thread-safe: kernels run under one lock per context. {@link #close()} releases the module, the
 * default stream's cuBLAS handle, the workspace and the primary context; tensors, buffers and streams must
 * be closed before.
 */
public final class CudaContext implements AutoCloseable {
    private final int ordinal;
    private final CUdevice device = new CUdevice();
    private final CUcontext context = new CUcontext();
    private final CUmodule module = new CUmodule();
    private final Map<String, CUfunction> functions = new HashMap<>();
    private final KernelTable table;
    private final CudaStream defaultStream;
    private final JCudaDevice gpu = new JCudaDevice(this);
    private final Workspace workspace = new Workspace(gpu);
    private final ReentrantLock lock = new ReentrantLock();
    private final String name;
    private final int computeCapability;
    private final CudaLaunchConfig.Limits limits;
    private final int driverVersion;
    private final CudaOps ops;
    private boolean closed;

    private CudaContext(int ordinal) {
        this.ordinal = ordinal;
        CudaException.check(JCudaDriver.cuDeviceGet(device, ordinal), "cuDeviceGet(" + ordinal + ")");
        CudaException.check(JCudaDriver.cuDevicePrimaryCtxRetain(context, device), "cuDevicePrimaryCtxRetain(" + ordinal + ")");
        makeCurrent();
        byte[] nameBytes = new byte[256];
        CudaException.check(JCudaDriver.cuDeviceGetName(nameBytes, nameBytes.length, device), "cuDeviceGetName");
        int len = 0;
        while (len < nameBytes.length && nameBytes[len] != 0) {
            len++;
        }
        this.name = new String(nameBytes, 0, len, StandardCharsets.UTF_8);
        int[] major = new int[1];
        int[] minor = new int[1];
        // CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75, _MINOR = 76
        CudaException.check(JCudaDriver.cuDeviceGetAttribute(major, 75, device), "cuDeviceGetAttribute(COMPUTE_CAPABILITY_MAJOR)");
        CudaException.check(JCudaDriver.cuDeviceGetAttribute(minor, 76, device), "cuDeviceGetAttribute(COMPUTE_CAPABILITY_MINOR)");
        this.computeCapability = major[0] * 10 + minor[0];
        // CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16, _MAX_THREADS_PER_BLOCK = 1, _WARP_SIZE = 10
        this.limits = new CudaLaunchConfig.Limits(attribute(16, "MULTIPROCESSOR_COUNT"),
                attribute(1, "MAX_THREADS_PER_BLOCK"), attribute(10, "WARP_SIZE"));
        int[] version = new int[1];
        CudaException.check(JCudaDriver.cuDriverGetVersion(version), "cuDriverGetVersion");
        this.driverVersion = version[0];
        this.table = KernelTable.load();
        CudaException.check(JCudaDriver.cuModuleLoadData(module, NativeResources.read(NativeResources.FATBIN)),
                "cuModuleLoadData(" + NativeResources.FATBIN + ") on " + name + " (sm_" + computeCapability + ")");
        for (KernelTable.Entry e : table.entries().values()) {
            CUfunction f = new CUfunction();
            CudaException.check(JCudaDriver.cuModuleGetFunction(f, module, e.name()),
                    "cuModuleGetFunction(" + e.name() + ")");
            functions.put(e.name(), f);
        }
        this.defaultStream = new CudaStream(this, false);
        this.ops = new CudaOps(gpu, table, workspace, CudaTuning.shared(gpuFingerprint(), limits, table));
    }

    /**
     * Opens device {@code ordinal}; the {@code cuda} backend must be available (its probe explains why not).
     *
     * @throws IllegalStateException when CUDA is unavailable, with the probe's reason
     * @throws CudaException         when a driver call fails
     */
    public static CudaContext open(int ordinal) {
        CudaBackendProvider.Found found = CudaBackendProvider.found();
        if (!found.availability().available()) {
            throw new IllegalStateException(found.availability().reason());
        }
        CudaRuntime.ensureLoaded(found.cublas());
        return new CudaContext(ordinal);
    }

    private int attribute(int attribute, String what) {
        int[] v = new int[1];
        CudaException.check(JCudaDriver.cuDeviceGetAttribute(v, attribute, device), "cuDeviceGetAttribute(" + what + ")");
        return v[0];
    }

    /** The launch limits of the device (SM count, threads per block, warp size). */
    CudaLaunchConfig.Limits limits() {
        return limits;
    }

    /** The GPU part of the wisdom's fingerprint: name, compute capability, SM count and driver version. */
    String gpuFingerprint() {
        return name + " sm_" + computeCapability + " " + limits.multiprocessors() + " SMs, driver " + driverVersion / 1000
                + "." + driverVersion % 1000 / 10;
    }

    /** The device ordinal. */
    public int ordinal() {
        return ordinal;
    }

    /** The device's name ({@code "NVIDIA H100 80GB HBM3"}). */
    public String deviceName() {
        return name;
    }

    /** Compute capability as {@code 10·major + minor} (90 for Hopper). */
    public int computeCapability() {
        return computeCapability;
    }

    /** The legacy NULL stream with this context's shared cuBLAS handle; the backend's kernels run on it. */
    public CudaStream defaultStream() {
        return defaultStream;
    }

    /** A new stream with its own cuBLAS handle; the caller closes it. */
    public CudaStream createStream() {
        return new CudaStream(this, true);
    }

    /** Allocates a contiguous tensor of the given shape (uninitialized); the caller closes it. */
    public DeviceTensor allocate(DType dtype, int... shape) {
        Objects.requireNonNull(dtype, "dtype");
        long bytes = Math.max(1, Tensor.count(shape)) * dtype.byteSize();
        makeCurrent();
        long address = gpu.malloc(bytes, "a " + dtype + " tensor");
        return new DeviceTensor(this, address, bytes, dtype, 0, shape, Tensor.contiguousStrides(shape), true);
    }

    /**
     * A borrowed view of device memory the host framework owns (e.g. {@code torch.Tensor.data_ptr()}): element
     * {@code offset + Σ index·stride} of {@code dtype} at {@code address}; {@code byteSize} bytes of storage.
     */
    public DeviceTensor wrap(long address, long byteSize, DType dtype, long offset, int[] shape, long[] strides) {
        return new DeviceTensor(this, address, byteSize, dtype, offset, shape, strides, false);
    }

    /** Allocates page-locked host memory; the caller closes it. */
    public PinnedBuffer allocatePinned(long bytes) {
        return new PinnedBuffer(this, bytes);
    }

    /**
     * Copies {@code src} into {@code dst} (same shape), each a host tensor or a device tensor's
     * {@link DeviceTensor#asTensor()}, converting the element type if they differ; synchronous.
     */
    public void copy(Tensor src, Tensor dst) {
        if (!java.util.Arrays.equals(src.shape(), dst.shape())) {
            throw new IllegalArgumentException("copy needs equal shapes but src is " + java.util.Arrays.toString(src.shape())
                    + " and dst " + java.util.Arrays.toString(dst.shape()));
        }
        run(() -> ops.copy(src, dst));
    }

    /** The backend's kernels on this context. */
    CudaOps ops() {
        return ops;
    }

    CUfunction function(String kernel) {
        CUfunction f = functions.get(kernel);
        if (f == null) {
            throw new IllegalStateException("kernel " + kernel + " is not in the loaded module");
        }
        return f;
    }

    /** Makes this context current on the calling thread (JCuda's driver calls act on the current one). */
    void makeCurrent() {
        if (closed) {
            throw new IllegalStateException("CUDA context of device " + ordinal + " is closed");
        }
        CudaException.check(JCudaDriver.cuCtxSetCurrent(context), "cuCtxSetCurrent");
    }

    /**
     * Runs {@code body} under the lock with this context current, then synchronizes the default stream and
     * recycles the workspace, also when {@code body} throws.
     */
    void run(Runnable body) {
        lock.lock();
        try {
            makeCurrent();
            try {
                body.run();
            } finally {
                try {
                    gpu.synchronize();
                } finally {
                    workspace.reset();
                }
            }
        } finally {
            lock.unlock();
        }
    }

    void free(long address) {
        makeCurrent();
        gpu.free(address);
    }

    /** Releases the module, the default stream's cuBLAS handle, the workspace and the primary context. */
    @Override
    public void close() {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            makeCurrent();
            defaultStream.close();
            workspace.close();
            CudaException.check(JCudaDriver.cuModuleUnload(module), "cuModuleUnload");
            closed = true;
            CudaException.check(JCudaDriver.cuDevicePrimaryCtxRelease(device), "cuDevicePrimaryCtxRelease");
        } finally {
            lock.unlock();
        }
    }

    @Override
    public String toString() {
        return "CudaContext[" + ordinal + ": " + name + ", sm_" + computeCapability + "]";
    }
}
