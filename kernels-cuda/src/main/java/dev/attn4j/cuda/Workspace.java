package dev.attn4j.cuda;

import java.util.ArrayList;
import java.util.List;

/**
 * Scratch device memory for one call: a bump allocator over one buffer that grows to the high-water mark,
 * so that steady-state calls allocate nothing (cuMemAlloc costs tens of microseconds). A call that needs
 * more than the buffer gets extra chunks, freed at {@link #reset()}, after which the buffer is regrown.
 * Not thread-safe: the context's lock guards it.
 */
final class Workspace {
    private static final long ALIGN = 256;

    private final Device device;
    private long base;
    private long capacity;
    private long used;
    private long highWater;
    private final List<Long> extra = new ArrayList<>();

    Workspace(Device device) {
        this.device = device;
    }

    /** Device address of {@code bytes} bytes, 256-byte aligned, valid until {@link #reset()}. */
    long alloc(long bytes) {
        long size = Math.max(ALIGN, (bytes + ALIGN - 1) / ALIGN * ALIGN);
        highWater += size;
        if (used + size <= capacity) {
            long at = base + used;
            used += size;
            return at;
        }
        long chunk = device.malloc(size, "workspace chunk");
        extra.add(chunk);
        return chunk;
    }

    /** Frees the extra chunks and grows the buffer to the last call's high-water mark (after a synchronize). */
    void reset() {
        for (long chunk : extra) {
            device.free(chunk);
        }
        extra.clear();
        if (highWater > capacity) {
            if (base != 0) {
                device.free(base);
            }
            capacity = highWater + highWater / 4;
            base = device.malloc(capacity, "workspace");
        }
        used = 0;
        highWater = 0;
    }

    /** Frees everything. */
    void close() {
        for (long chunk : extra) {
            device.free(chunk);
        }
        extra.clear();
        if (base != 0) {
            device.free(base);
            base = 0;
            capacity = 0;
        }
    }
}
