package dev.attn4j.ci;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Writes a case folder in the converted ONNX format ({@code case.json} + {@code .npy}) for tests. */
final class CaseWriter {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String name;
    private final String opType;
    private final int opset;
    private final ObjectNode attributes = JSON.createObjectNode();
    private final List<String> nodeInputs = new ArrayList<>();
    private final List<String> nodeOutputs = new ArrayList<>();
    private final List<Io> inputs = new ArrayList<>();
    private final List<Io> outputs = new ArrayList<>();

    private record Io(String name, int slot, Npy.Kind kind, int[] shape, byte[] data) {
    }

    CaseWriter(String name, String opType, int opset) {
        this.name = name;
        this.opType = opType;
        this.opset = opset;
    }

    CaseWriter attr(String key, long value) {
        attributes.put(key, value);
        return this;
    }

    CaseWriter attr(String key, float value) {
        attributes.put(key, (double) value);
        return this;
    }

    CaseWriter attr(String key, String value) {
        attributes.put(key, value);
        return this;
    }

    /** Declares the node's input slots ({@code ""} for an empty optional slot). */
    CaseWriter nodeInputs(String... names) {
        nodeInputs.addAll(List.of(names));
        return this;
    }

    /** Declares the node's output slots. */
    CaseWriter nodeOutputs(String... names) {
        nodeOutputs.addAll(List.of(names));
        return this;
    }

    CaseWriter input(String tensor, float[] values, int... shape) {
        inputs.add(new Io(tensor, nodeInputs.indexOf(tensor), Npy.Kind.FLOAT32, shape, f32(values)));
        return this;
    }

    CaseWriter inputBool(String tensor, boolean[] values, int... shape) {
        byte[] b = new byte[values.length];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) (values[i] ? 1 : 0);
        }
        inputs.add(new Io(tensor, nodeInputs.indexOf(tensor), Npy.Kind.BOOL, shape, b));
        return this;
    }

    CaseWriter inputInt64(String tensor, long[] values, int... shape) {
        ByteBuffer b = ByteBuffer.allocate(8 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) {
            b.putLong(v);
        }
        inputs.add(new Io(tensor, nodeInputs.indexOf(tensor), Npy.Kind.INT64, shape, b.array()));
        return this;
    }

    CaseWriter output(String tensor, float[] values, int... shape) {
        outputs.add(new Io(tensor, nodeOutputs.indexOf(tensor), Npy.Kind.FLOAT32, shape, f32(values)));
        return this;
    }

    private static byte[] f32(float[] values) {
        ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        return b.array();
    }

    /** Writes {@code parent/name/} and returns it. */
    Path write(Path parent) throws IOException {
        Path dir = Files.createDirectories(parent.resolve(name));
        ObjectNode root = JSON.createObjectNode();
        root.put("case", name);
        root.put("producer", "attn4j-ci-test");
        root.put("op_type", opType);
        root.put("domain", "");
        root.put("opset", opset);
        root.put("multi_node", false);
        root.set("attributes", attributes);
        root.set("node_inputs", JSON.valueToTree(nodeInputs));
        root.set("node_outputs", JSON.valueToTree(nodeOutputs));
        root.set("graph_inputs", JSON.valueToTree(inputs.stream().map(Io::name).toList()));
        root.set("graph_outputs", JSON.valueToTree(outputs.stream().map(Io::name).toList()));
        root.set("inputs", files(dir, "input", inputs));
        root.set("outputs", files(dir, "output", outputs));
        JSON.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("case.json").toFile(), root);
        return dir;
    }

    private static ArrayNode files(Path dir, String prefix, List<Io> ios) throws IOException {
        ArrayNode arr = JSON.createArrayNode();
        for (int k = 0; k < ios.size(); k++) {
            Io io = ios.get(k);
            String file = prefix + "_" + k + ".npy";
            Npy.write(dir.resolve(file), io.kind(), io.shape(), io.data());
            arr.add(JSON.valueToTree(Map.of("file", file, "name", io.name(), "dtype", io.kind().name().toLowerCase(),
                    "shape", io.shape(), "npy_descr", io.kind().descr(), "node_slot", io.slot())));
        }
        return arr;
    }
}
