package dev.attn4j.bench;

import ai.onnxruntime.OrtException;
import dev.attn4j.api.AttentionProblem;
import dev.attn4j.api.Mask;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;


/**
 * One decode step of an LLM with grouped-query attention: one query row per head against a KV cache of
 * {@code seqK} positions (defaults B=1, H=32, KVH=8, D=128, fp32), against ONNX Runtime's CPU
 * {@code Attention} op (opset 23, GQA through its K/V head count) and the float64 reference on the same
 * inputs. The step reads the whole cache (2·B·KVH·Sk·D floats, 33.5 MB at the defaults), so GB/s =
 * cache bytes / time is the figure to hold against the machine's read bandwidth, which backend {@code read}
 * measures in the same run ({@link ReadRoof}: all cores summing arrays of the cache's size, nothing else);
 * GFLOP/s = 4·B·H·Sk·D / time. The float64 reference is compute-bound here, the kernels memory-bound, so
 * their ratio moves with the VM's memory bandwidth: simd / read is the figure that says how close to the
 * machine the kernel is.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx6g"})
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class DecodeBenchmark {
    @Param({"simd", "ort", "reference", "read"})
    public String backend;
    @Param({"4096"})
    public int seqK;
    @Param({"1"})
    public int batch;
    @Param({"32"})
    public int heads;
    @Param({"8"})
    public int kvHeads;
    @Param({"128"})
    public int headDim;

    private AttentionCall call;
    private ReadRoof roof;

    @Setup(Level.Trial)
    public void setup() throws OrtException {
        AttentionProblem p = AttentionProblem.of(batch, heads, kvHeads, 1, seqK, headDim);
        if (backend.equals("read")) {
            roof = ReadRoof.kvCache(p);
        } else {
            call = new AttentionCall(backend, p, Mask.none(), false, 7, 1);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws OrtException {
        if (call != null) {
            call.close();
        }
        if (roof != null) {
            roof.close();
        }
    }

    @Benchmark
    public void decode(Blackhole bh) throws OrtException, InterruptedException, ExecutionException {
        if (roof != null) {
            bh.consume(roof.read());
        } else {
            call.run(bh);
        }
    }
}
