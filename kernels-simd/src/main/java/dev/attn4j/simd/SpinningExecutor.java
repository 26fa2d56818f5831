package dev.attn4j.simd;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.locks.LockSupport;

/**
 * The default pool's worker threads: each polls for tasks and, once idle, spins for {@link #SPIN_NANOS}
 * before it parks, so that kernel calls that follow each other closely (a decode step per layer, the
 * layers of an encoder) find their helpers awake. A parked thread took 20–40 µs to wake on the 2-vCPU VM,
 * while the caller had already started alone: most of a helper's share of a 1 ms call. Daemon threads,
 * created once; an idle pool costs one spin window of CPU per call, then nothing. {@code -Dattn4j.spinMicros=0}
 * parks at once (the paired benchmarks set it, so that our idle helper never takes a core from the peer's
 * call that follows ours).
 */
final class SpinningExecutor implements Executor {
    private static final System.Logger LOG = System.getLogger("dev.attn4j.simd");
    /** How long an idle worker polls before it parks: {@code -Dattn4j.spinMicros=N} (≥ 0), else 100 µs. */
    static final long SPIN_NANOS = spinNanos();
    private static final int RUNNING = 0;
    private static final int PARKED = 1;
    private static final int WAKING = 2;

    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final Thread[] workers;
    private final AtomicIntegerArray state;

    /** Starts {@code threads} daemon workers named {@code name-1} … {@code name-threads}. */
    SpinningExecutor(int threads, String name) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1 but is " + threads);
        }
        workers = new Thread[threads];
        state = new AtomicIntegerArray(threads);
        for (int i = 0; i < threads; i++) {
            int id = i;
            Thread t = new Thread(() -> work(id), name + "-" + (i + 1));
            t.setDaemon(true);
            workers[i] = t;
        }
        for (Thread t : workers) {
            t.start();
        }
    }

    private static long spinNanos() {
        String v = System.getProperty("attn4j.spinMicros");
        if (v == null || v.isBlank()) {
            return 100_000;
        }
        try {
            long micros = Long.parseLong(v.trim());
            if (micros >= 0) {
                return micros * 1000;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("-Dattn4j.spinMicros must be an integer >= 0 but is '" + v + "'");
    }

    @Override
    public void execute(Runnable task) {
        tasks.offer(task);
        // wake one parked worker, if any (a spinning or busy one polls the queue by itself); the worker
        // marks itself PARKED before its last look at the queue, so this offer cannot fall between them
        for (int i = 0; i < workers.length; i++) {
            if (state.get(i) == PARKED && state.compareAndSet(i, PARKED, WAKING)) {
                LockSupport.unpark(workers[i]);
                return;
            }
        }
    }

    private void work(int id) {
        long spinUntil = System.nanoTime() + SPIN_NANOS;
        while (true) {
            Runnable task = tasks.poll();
            if (task != null) {
                try {
                    task.run();
                } catch (Throwable t) {
                    // Parallel's jobs keep their own failures; anything else must not kill the worker
                    LOG.log(System.Logger.Level.WARNING, "attn4j: a task failed on " + Thread.currentThread().getName(), t);
                }
                spinUntil = System.nanoTime() + SPIN_NANOS;
            } else if (System.nanoTime() < spinUntil) {
                Thread.onSpinWait();
            } else {
                state.set(id, PARKED);
                if (tasks.isEmpty()) {
                    LockSupport.park(this);
                }
                state.set(id, RUNNING);
                spinUntil = System.nanoTime() + SPIN_NANOS;
            }
        }
    }
}
