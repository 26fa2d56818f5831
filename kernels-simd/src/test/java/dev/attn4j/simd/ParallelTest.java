package dev.attn4j.simd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The work items' hand-out: every item exactly once, whatever the threads do, and failures back to the caller.
 * An item nobody takes would leave the caller waiting: the timeout turns that into a failure.
 */
@Timeout(value = 20, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ParallelTest {

    @Test
    void everyItemExactlyOnce() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(3);
        try {
            for (int threads = 1; threads <= 4; threads++) {
                Parallel par = new Parallel(pool, threads);
                for (int n = 0; n <= 41; n++) {
                    for (int rep = 0; rep < 20; rep++) {
                        AtomicIntegerArray seen = new AtomicIntegerArray(n);
                        par.forEach(n, seen::incrementAndGet);
                        for (int i = 0; i < n; i++) {
                            assertEquals(1, seen.get(i), "item " + i + " of " + n + " on " + threads + " threads");
                        }
                    }
                }
            }
        } finally {
            pool.shutdown();
        }
    }

    @Test
    void aRejectingExecutorLeavesEveryItemToTheCaller() {
        Parallel par = new Parallel(task -> {
            throw new RejectedExecutionException("full");
        }, 3);
        Thread caller = Thread.currentThread();
        AtomicIntegerArray seen = new AtomicIntegerArray(10);
        par.forEach(10, i -> {
            assertSame(caller, Thread.currentThread());
            seen.incrementAndGet(i);
        });
        for (int i = 0; i < 10; i++) {
            assertEquals(1, seen.get(i), "item " + i);
        }
    }

    @Test
    void aFailingItemIsRethrownOnTheCaller() {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Parallel par = new Parallel(pool, 3);
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> par.forEach(9, i -> {
                if (i == 7) {
                    throw new IllegalStateException("item 7");
                }
            }));
            assertEquals("item 7", e.getMessage());
            // the pool is still usable after a failure
            AtomicIntegerArray seen = new AtomicIntegerArray(9);
            par.forEach(9, seen::incrementAndGet);
            for (int i = 0; i < 9; i++) {
                assertEquals(1, seen.get(i), "item " + i);
            }
        } finally {
            pool.shutdown();
        }
    }
}
