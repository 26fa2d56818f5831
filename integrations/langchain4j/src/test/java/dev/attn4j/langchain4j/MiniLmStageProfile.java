package dev.attn4j.langchain4j;

import dev.attn4j.api.Attn4j;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Where the time of one {@code embedAll} call goes, stage by stage (a profiling harness, not a test):
 * tokenization, each stage of the encoder summed over the layers, and pooling.
 *
 * <pre>
 * ./mvnw -B -q -pl integrations/langchain4j -am test-compile dependency:build-classpath \
 *     -Dmdep.outputFile=$PWD/target/minilm-cp.txt -Dmdep.includeScope=test -DskipTests
 * java --add-modules=jdk.incubator.vector -XX:CompileThresholdScaling=0.1 [-Dattn4j.threads=1] \
 *     -cp integrations/langchain4j/target/test-classes:integrations/langchain4j/target/classes:$(cat target/minilm-cp.txt) \
 *     dev.attn4j.langchain4j.MiniLmStageProfile [batch] [seconds per shape] [tokens...]
 * </pre>
 *
 * Each stage is timed in wall-clock time and, with {@code -Dattn4j.threads=1}, also in the CPU time of
 * the one thread that runs everything: the figure to trust on a machine shared with other work, where
 * wall-clock time mostly measures the neighbours. Texts of up to 128 tokens run end to end (LangChain4j's
 * tokenizer truncates longer ones at 128); longer shapes run through the encoder alone on synthetic
 * sequences, without tokenization.
 */
public final class MiniLmStageProfile {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private MiniLmStageProfile() {
    }

    /** Sums the wall-clock and thread CPU time between laps per stage name. */
    static final class Clock implements BertEncoder.Laps {
        final Map<String, long[]> nanos = new LinkedHashMap<>();
        long wall;
        long cpu;

        void start() {
            wall = System.nanoTime();
            cpu = THREADS.getCurrentThreadCpuTime();
        }

        @Override
        public void lap(String stage) {
            long w = System.nanoTime();
            long c = THREADS.getCurrentThreadCpuTime();
            long[] sum = nanos.computeIfAbsent(stage, s -> new long[2]);
            sum[0] += w - wall;
            sum[1] += c - cpu;
            wall = w;
            cpu = c;
        }
    }

    public static void main(String[] args) {
        int batch = args.length > 0 ? Integer.parseInt(args[0]) : 32;
        double seconds = args.length > 1 ? Double.parseDouble(args[1]) : 8;
        List<Integer> shapes = new ArrayList<>();
        for (int i = 2; i < args.length; i++) {
            shapes.add(Integer.parseInt(args[i]));
        }
        if (shapes.isEmpty()) {
            shapes = List.of(16, 64, 256);
        }
        boolean oneThread = "1".equals(System.getProperty("attn4j.threads"));
        Attn4jMiniLmEmbeddingModel model = new Attn4jMiniLmEmbeddingModel(Attn4j.kernels(), batch);
        PrintStream out = System.out;
        out.println(model + ", batch " + batch);
        for (int tokens : shapes) {
            List<String> texts = tokens <= 128 ? MiniLmEmbeddingBenchmark.texts(batch, tokens) : null;
            Clock clock = new Clock();
            int calls = 0;
            // warm-up for a third of the time, then measure
            for (int phase = 0; phase < 2; phase++) {
                long end = System.nanoTime() + (long) (seconds * 1e9 * (phase == 0 ? 1.0 / 3 : 2.0 / 3));
                clock.nanos.clear();
                calls = 0;
                while (System.nanoTime() < end || calls < 2) {
                    long[][] ids = new long[batch][];
                    long[][] types = new long[batch][];
                    clock.start();
                    if (texts != null) {
                        Attn4jMiniLmEmbeddingModel.Split split = model.split(texts);
                        for (int b = 0; b < batch; b++) {
                            ids[b] = split.parts().get(b).ids();
                            types[b] = split.parts().get(b).typeIds();
                        }
                        clock.lap("tokenize");
                    } else {
                        ids = synthetic(batch, tokens);
                        types = new long[batch][tokens];
                    }
                    float[] hidden = model.encoder().encode(ids, types, clock).array();
                    int seq = ids[0].length;
                    for (int b = 0; b < batch; b++) {
                        Attn4jMiniLmEmbeddingModel.meanPool(hidden, b, seq, ids[b].length, 384);
                    }
                    clock.lap("pooling");
                    calls++;
                }
            }
            long wall = 0;
            long cpu = 0;
            for (long[] v : clock.nanos.values()) {
                wall += v[0];
                cpu += v[1];
            }
            out.printf(Locale.ROOT, "%n%d × %d tokens: %d calls, %.2f ms per call (wall), %.0f texts/s%s%n", batch, tokens, calls,
                    wall / 1e6 / calls, batch * calls / (wall / 1e9),
                    oneThread ? String.format(Locale.ROOT, "; CPU %.2f ms per call, %.0f texts/s", cpu / 1e6 / calls,
                            batch * calls / (cpu / 1e9)) : "");
            for (Map.Entry<String, long[]> e : clock.nanos.entrySet()) {
                long[] v = e.getValue();
                out.printf(Locale.ROOT, "  %-30s %9.2f ms %5.1f %%", e.getKey(), v[0] / 1e6 / calls, 100.0 * v[0] / wall);
                if (oneThread) {
                    out.printf(Locale.ROOT, "   CPU %9.2f ms %5.1f %%", v[1] / 1e6 / calls, 100.0 * v[1] / cpu);
                }
                out.println();
            }
        }
    }

    /** [CLS] w… [SEP] with valid word-piece ids. */
    static long[][] synthetic(int batch, int tokens) {
        long[][] ids = new long[batch][tokens];
        for (int b = 0; b < batch; b++) {
            ids[b][0] = 101;
            for (int s = 1; s < tokens - 1; s++) {
                ids[b][s] = 2000 + (s * 7 + b * 3) % 5000;
            }
            ids[b][tokens - 1] = 102;
        }
        return ids;
    }
}
