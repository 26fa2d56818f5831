package dev.attn4j.langchain4j;

import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.embedding.onnx.allminilml6v2.AllMiniLmL6V2EmbeddingModel;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * attn4j's model against LangChain4j's (ONNX Runtime) with their calls interleaved: each round times one
 * {@code embedAll} of each, so both see the same load; the ratio of the medians and the quartiles of the
 * per-round ratios are printed (a harness for a shared machine, where {@link MiniLmEmbeddingBenchmark}'s
 * one-after-the-other JMH runs can see different neighbours; not a test).
 *
 * <pre>
 * java --add-modules=jdk.incubator.vector -XX:CompileThresholdScaling=0.1 -cp ... \
 *     dev.attn4j.langchain4j.MiniLmRatios [seconds per case] [batch,tokens ...]   (default 1,16 1,64 1,256 32,16 32,64 32,256)
 * </pre>
 */
public final class MiniLmRatios {
    private MiniLmRatios() {
    }

    public static void main(String[] args) {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 20;
        List<int[]> cases = new ArrayList<>();
        for (int i = 1; i < args.length; i++) {
            String[] f = args[i].split(",");
            cases.add(new int[] {Integer.parseInt(f[0]), Integer.parseInt(f[1])});
        }
        if (cases.isEmpty()) {
            for (int batch : new int[] {1, 32}) {
                for (int tokens : new int[] {16, 64, 256}) {
                    cases.add(new int[] {batch, tokens});
                }
            }
        }
        EmbeddingModel ours = new Attn4jMiniLmEmbeddingModel();
        EmbeddingModel ort = new AllMiniLmL6V2EmbeddingModel();
        PrintStream out = System.out;
        out.println("batch tokens  attn4j texts/s  ORT texts/s  ratio of medians  per-round ratio q1..q3  rounds");
        for (int[] c : cases) {
            int batch = c[0];
            // LangChain4j's tokenizer truncates at 128 tokens: 256 measures 128-token texts in both models
            List<TextSegment> texts = MiniLmEmbeddingBenchmark.texts(32, Math.min(c[1], 128)).stream()
                    .limit(batch).map(TextSegment::from).toList();
            List<double[]> rounds = new ArrayList<>();
            long warmEnd = System.nanoTime() + (long) (seconds / 3 * 1e9);
            long end = warmEnd + (long) (seconds * 2 / 3 * 1e9);
            while (System.nanoTime() < end || rounds.size() < 5) {
                long t0 = System.nanoTime();
                ours.embedAll(texts);
                long t1 = System.nanoTime();
                ort.embedAll(texts);
                long t2 = System.nanoTime();
                if (t0 > warmEnd) {
                    rounds.add(new double[] {(t1 - t0) / 1e9, (t2 - t1) / 1e9});
                }
            }
            double ourMedian = median(rounds.stream().mapToDouble(r -> r[0]).toArray());
            double ortMedian = median(rounds.stream().mapToDouble(r -> r[1]).toArray());
            double[] ratios = rounds.stream().mapToDouble(r -> r[1] / r[0]).sorted().toArray();
            out.printf(Locale.ROOT, "%5d %6d %15.1f %12.1f %17.2f× %11.2f..%.2f× %7d%n", batch, c[1], batch / ourMedian,
                    batch / ortMedian, ortMedian / ourMedian, ratios[ratios.length / 4], ratios[ratios.length * 3 / 4],
                    rounds.size());
        }
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
