package dev.attn4j.cuda;

import java.util.ArrayList;
import java.util.List;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.JCudaDriver;

/**
 * Scratch device memory for one call: a bump allocator over one buffer that grows to the high-water mark,
 * so that steady-state calls allocate nothing (cuMemAlloc costs tens of microseconds). A call that needs
 * more than the buffer gets extra chunks, freed at {@link #reset()}, after which the buffer is regrown.
 * Not thread-safe: the context's lock guards it.
 */
final class Workspace {
    private static final long ALIGN = 256;

    private long base;
    private long capacity;
    private long used;
    private long highWater;
    private final List<Long> extra = new ArrayList<>();

    /** Device address of {@code bytes} bytes, 256-byte aligned, valid until {@link #reset()}. */
    long alloc(long bytes) {
        long size = Math.max(ALIGN, (bytes + ALIGN - 1) / ALIGN * ALIGN);
        highWater += size;
        if (used + size <= capacity) {
            long at = base + used;
            used += size;
            return at;
        }
        long chunk = DeviceMemory.malloc(size, "workspace chunk");
        extra.add(chunk);
        return chunk;
    }

    /** Frees the extra chunks and grows the buffer to the last call's high-water mark (stream synchronized). */
    void reset() {
        for (long chunk : extra) {
            DeviceMemory.free(chunk);
        }
        extra.clear();
        if (highWater > capacity) {
            if (base != 0) {
                DeviceMemory.free(base);
            }
            capacity = highWater + highWater / 4;
            base = DeviceMemory.malloc(capacity, "workspace");
        }
        used = 0;
        highWater = 0;
    }

    /** Frees everything. */
    void close() {
        reset();
        if (base != 0) {
            DeviceMemory.free(base);
            base = 0;
            capacity = 0;
        }
    }

    /** Raw device allocations as addresses. */
    static final class DeviceMemory {
        private DeviceMemory() {
        }

        static long malloc(long bytes, String what) {
            Address ptr = new Address();
            CudaException.check(JCudaDriver.cuMemAlloc(ptr, bytes), "cuMemAlloc(" + bytes + " bytes for " + what + ")");
            return ptr.address();
        }

        static void free(long address) {
            CudaException.check(JCudaDriver.cuMemFree(ptr(address)), "cuMemFree");
        }
    }

    private static final CUdeviceptr ZERO = new CUdeviceptr();

    /** A {@link CUdeviceptr} to a raw device address (JCuda adds the byte offset to the null pointer). */
    static CUdeviceptr ptr(long address) {
        return ZERO.withByteOffset(address);
    }

    /** A device pointer JCuda fills, whose address this package can read. */
    static final class Address extends CUdeviceptr {
        long address() {
            return getNativePointer() + getByteOffset();
        }
    }
}
