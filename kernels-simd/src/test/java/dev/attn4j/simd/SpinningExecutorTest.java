package dev.attn4j.simd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The default pool's workers run every task, from any thread, also after parking, and survive a failing one. */
class SpinningExecutorTest {

    @Test
    void runsEveryTaskFromManyThreads() throws InterruptedException {
        SpinningExecutor pool = new SpinningExecutor(3, "test-spin");
        AtomicInteger ran = new AtomicInteger();
        int producers = 4;
        int perProducer = 5000;
        CountDownLatch done = new CountDownLatch(producers * perProducer);
        Thread[] threads = new Thread[producers];
        for (int p = 0; p < producers; p++) {
            threads[p] = new Thread(() -> {
                for (int i = 0; i < perProducer; i++) {
                    pool.execute(() -> {
                        ran.incrementAndGet();
                        done.countDown();
                    });
                }
            });
            threads[p].start();
        }
        for (Thread t : threads) {
            t.join();
        }
        assertTrue(done.await(30, TimeUnit.SECONDS), "tasks left: " + done.getCount());
        assertEquals(producers * perProducer, ran.get());
    }

    @Test
    void wakesParkedWorkersAndSurvivesAFailingTask() throws InterruptedException {
        SpinningExecutor pool = new SpinningExecutor(2, "test-park");
        for (int round = 0; round < 5; round++) {
            // idle for far longer than the spin window: the workers park, and the next task must wake one
            Thread.sleep(TimeUnit.NANOSECONDS.toMillis(SpinningExecutor.SPIN_NANOS) + 20);
            pool.execute(() -> {
                throw new IllegalStateException("expected by the test");
            });
            CountDownLatch ran = new CountDownLatch(2);
            pool.execute(ran::countDown);
            pool.execute(ran::countDown);
            assertTrue(ran.await(10, TimeUnit.SECONDS), "round " + round + ": a task after parking never ran");
        }
    }

    @Test
    void parallelOnTheDefaultPoolVisitsEveryItemOnce() {
        Parallel par = Parallel.defaults();
        for (int n : new int[] {1, 2, 3, 17, 1000}) {
            AtomicInteger[] hits = new AtomicInteger[n];
            for (int i = 0; i < n; i++) {
                hits[i] = new AtomicInteger();
            }
            for (int round = 0; round < 50; round++) {
                par.forEach(n, i -> hits[i].incrementAndGet());
            }
            for (int i = 0; i < n; i++) {
                assertEquals(50, hits[i].get(), "item " + i + " of " + n);
            }
        }
    }
}
