package dev.attn4j.simd;

import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * Runs independent work items on a persistent executor: each call's items are dealt to its threads (the
 * calling thread works too) and left-over ones taken from the others' shares; each item is computed by exactly
 * one thread, so results never depend on the thread count. No thread is created per call.
 */
final class Parallel {
    private final Executor executor;
    private final int parallelism;

    /** Runs on {@code executor} with at most {@code parallelism} threads, the caller included. */
    Parallel(Executor executor, int parallelism) {
        if (parallelism < 1) {
            throw new IllegalArgumentException("parallelism must be >= 1 but is " + parallelism);
        }
        this.executor = parallelism == 1 ? null : Objects.requireNonNull(executor, "executor");
        this.parallelism = parallelism;
    }

    /** One thread, the caller's: for calls too small to be worth handing to the pool. */
    static final Parallel SERIAL = new Parallel(null, 1);

    /**
     * The shared default: daemon threads for every core but the caller's, created once, spinning briefly
     * between calls ({@link SpinningExecutor}).
     */
    static Parallel defaults() {
        return DefaultPool.PARALLEL;
    }

    int parallelism() {
        return parallelism;
    }

    /** Calls {@code body} for each item in [0, n), in parallel; rethrows the first failure. */
    void forEach(int n, IntConsumer body) {
        int helpers = Math.min(parallelism - 1, n - 1);
        if (helpers <= 0) {
            for (int i = 0; i < n; i++) {
                body.accept(i);
            }
            return;
        }
        Job job = new Job(n, helpers + 1, body, Thread.currentThread());
        for (int h = 0; h < helpers; h++) {
            try {
                executor.execute(job);
            } catch (RejectedExecutionException e) {
                break; // the caller drains the remaining items itself
            }
        }
        job.runPart(0);
        job.await();
    }

    /** How long the caller spins for the helpers' last items before it parks. */
    private static final long SPIN_NANOS = 200_000;

    /**
     * One call's items dealt to the threads like cards (thread p's share is items p, p + T, p + 2T, …, the
     * caller's p = 0): each thread takes its own share in order, then what is left of the others'. Which thread
     * computes an item never changes its result; what the fixed shares keep is locality: a call repeated on
     * the same data (a decode step's weights, the same heads' keys, a score matrix transformed in place) finds
     * each item's data in the cache of the core that read it last time, where items handed out in arrival
     * order moved about half of it between the cores' L2s on every call. Dealt rather than cut in ranges, so
     * that items ordered largest first (the causal attention's) stay balanced.
     */
    private static final class Job implements Runnable {
        /** Ints between two shares' cursors: each on its own cache line. */
        private static final int PAD = 16;
        private final int n;
        private final int parts;
        private final IntConsumer body;
        private final Thread waiter;
        private final AtomicIntegerArray cursors;
        private final AtomicInteger helpersJoined = new AtomicInteger();
        private final AtomicInteger done = new AtomicInteger();
        private volatile Throwable failure;

        Job(int n, int parts, IntConsumer body, Thread waiter) {
            this.n = n;
            this.parts = parts;
            this.body = body;
            this.waiter = waiter;
            this.cursors = new AtomicIntegerArray(parts * PAD);
        }

        @Override
        public void run() {
            runPart(Math.min(parts - 1, 1 + helpersJoined.getAndIncrement()));
        }

        /** This thread's share, then what is left of the others' (in turn after its own). */
        void runPart(int part) {
            for (int q = 0; q < parts; q++) {
                int share = (part + q) % parts;
                long i;
                while ((i = share + (long) cursors.getAndIncrement(share * PAD) * parts) < n) {
                    process((int) i);
                }
            }
        }

        private void process(int i) {
            try {
                if (failure == null) {
                    body.accept(i);
                }
            } catch (Throwable t) {
                if (failure == null) {
                    failure = t;
                }
            } finally {
                if (done.incrementAndGet() == n) {
                    LockSupport.unpark(waiter);
                }
            }
        }

        /**
         * Waits for the helpers' last items: spinning for up to {@link #SPIN_NANOS} first, since a parked
         * caller took 20–40 µs to be woken on the 2-vCPU VM (a 12-head S = 32 attention call: 28 µs on one
         * thread, 47 µs on two). The spin only runs while this call's own items are still in flight, so no
         * core is kept busy after the call returns.
         */
        void await() {
            long spinUntil = System.nanoTime() + SPIN_NANOS;
            while (done.get() < n) {
                if (System.nanoTime() < spinUntil) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.park(this);
                }
            }
            Throwable t = failure;
            if (t instanceof RuntimeException r) {
                throw r;
            }
            if (t instanceof Error e) {
                throw e;
            }
            if (t != null) {
                throw new IllegalStateException(t);
            }
        }
    }

    /** {@code -Dattn4j.threads=N} (≥ 1), else every available core. */
    static int threads() {
        String v = System.getProperty("attn4j.threads");
        if (v == null || v.isBlank()) {
            return Runtime.getRuntime().availableProcessors();
        }
        try {
            int n = Integer.parseInt(v.trim());
            if (n >= 1) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("-Dattn4j.threads must be an integer >= 1 but is '" + v + "'");
    }

    private static final class DefaultPool {
        static final Parallel PARALLEL = create();

        private static Parallel create() {
            int cores = threads();
            if (cores <= 1) {
                return new Parallel(null, 1);
            }
            return new Parallel(new SpinningExecutor(cores - 1, "attn4j-simd"), cores);
        }
    }
}
