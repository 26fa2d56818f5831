package dev.attn4j.langchain4j;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The parts of an ONNX {@code ModelProto} that a weight loader needs, read with {@link ProtoReader}:
 * the opsets, and the graph's nodes (op type, inputs, outputs, attributes), initializers and
 * input/output names. Field numbers are those of {@code onnx.proto3}:
 *
 * <pre>
 *   ModelProto        ir_version=1 opset_import=8 graph=7
 *   OperatorSetIdProto domain=1 version=2
 *   GraphProto        node=1 name=2 initializer=5 input=11 output=12
 *   NodeProto         input=1 output=2 name=3 op_type=4 attribute=5 domain=7
 *   AttributeProto    name=1 f=2 i=3 s=4 t=5 floats=7 ints=8 type=20
 *   TensorProto       dims=1 data_type=2 float_data=4 int32_data=5 int64_data=7 name=8 raw_data=9
 *                     double_data=10 data_location=14
 *   ValueInfoProto    name=1
 * </pre>
 *
 * Tensors with external data and sparse initializers are rejected with a message saying so.
 *
 * @param irVersion the IR version
 * @param opsets    opset version by domain ("" is the default ONNX domain)
 * @param graph     the main graph
 */
record OnnxModel(long irVersion, Map<String, Long> opsets, Graph graph) {

    /** ONNX {@code TensorProto.DataType} values this reader decodes. */
    static final int FLOAT = 1;
    static final int INT32 = 6;
    static final int INT64 = 7;
    static final int DOUBLE = 11;

    /** Reads a whole model from a stream (closed by the caller). */
    static OnnxModel read(InputStream in) throws IOException {
        return parse(ByteBuffer.wrap(in.readAllBytes()));
    }

    /** Parses a serialized {@code ModelProto}. */
    static OnnxModel parse(ByteBuffer bytes) {
        ProtoReader r = new ProtoReader(bytes);
        long ir = 0;
        Map<String, Long> opsets = new LinkedHashMap<>();
        Graph graph = null;
        while (r.next()) {
            switch (r.field()) {
                case 1 -> ir = r.readVarint();
                case 7 -> graph = parseGraph(r.readMessage());
                case 8 -> {
                    ProtoReader o = r.readMessage();
                    String domain = "";
                    long version = 0;
                    while (o.next()) {
                        switch (o.field()) {
                            case 1 -> domain = o.readString();
                            case 2 -> version = o.readVarint();
                            default -> o.skip();
                        }
                    }
                    opsets.put(domain, version);
                }
                default -> r.skip();
            }
        }
        if (graph == null) {
            throw new IllegalArgumentException("the ONNX model has no graph (ModelProto field 7)");
        }
        return new OnnxModel(ir, Collections.unmodifiableMap(opsets), graph);
    }

    /** The version of the default ONNX opset, or 0 if none is imported. */
    long defaultOpset() {
        return opsets.getOrDefault("", opsets.getOrDefault("ai.onnx", 0L));
    }

    private static Graph parseGraph(ProtoReader r) {
        String name = "";
        List<Node> nodes = new ArrayList<>();
        Map<String, TensorData> initializers = new LinkedHashMap<>();
        List<String> inputs = new ArrayList<>();
        List<String> outputs = new ArrayList<>();
        while (r.next()) {
            switch (r.field()) {
                case 1 -> nodes.add(parseNode(r.readMessage()));
                case 2 -> name = r.readString();
                case 5 -> {
                    TensorData t = parseTensor(r.readMessage());
                    initializers.put(t.name(), t);
                }
                case 11 -> inputs.add(valueInfoName(r.readMessage()));
                case 12 -> outputs.add(valueInfoName(r.readMessage()));
                case 15 -> throw new IllegalArgumentException("sparse initializers are not supported (graph " + name + ")");
                default -> r.skip();
            }
        }
        return new Graph(name, List.copyOf(nodes), Collections.unmodifiableMap(initializers), List.copyOf(inputs),
                List.copyOf(outputs));
    }

    private static String valueInfoName(ProtoReader r) {
        String name = "";
        while (r.next()) {
            if (r.field() == 1) {
                name = r.readString();
            } else {
                r.skip();
            }
        }
        return name;
    }

    private static Node parseNode(ProtoReader r) {
        String name = "";
        String opType = "";
        String domain = "";
        List<String> inputs = new ArrayList<>();
        List<String> outputs = new ArrayList<>();
        Map<String, Attribute> attributes = new LinkedHashMap<>();
        while (r.next()) {
            switch (r.field()) {
                case 1 -> inputs.add(r.readString());
                case 2 -> outputs.add(r.readString());
                case 3 -> name = r.readString();
                case 4 -> opType = r.readString();
                case 5 -> {
                    Attribute a = parseAttribute(r.readMessage());
                    attributes.put(a.name(), a);
                }
                case 7 -> domain = r.readString();
                default -> r.skip();
            }
        }
        return new Node(name, opType, domain, List.copyOf(inputs), List.copyOf(outputs),
                Collections.unmodifiableMap(attributes));
    }

    private static Attribute parseAttribute(ProtoReader r) {
        String name = "";
        int type = 0;
        float f = 0f;
        long i = 0;
        String s = null;
        TensorData t = null;
        List<Float> floats = new ArrayList<>();
        ProtoReader.LongList ints = new ProtoReader.LongList();
        while (r.next()) {
            switch (r.field()) {
                case 1 -> name = r.readString();
                case 2 -> {
                    r.expect(ProtoReader.FIXED32);
                    f = Float.intBitsToFloat(r.readFixed32());
                }
                case 3 -> i = r.readVarint();
                case 4 -> s = r.readString();
                case 5 -> t = parseTensor(r.readMessage());
                case 7 -> {
                    if (r.wireType() == ProtoReader.LENGTH_DELIMITED) {
                        ByteBuffer b = r.readBytes();
                        while (b.remaining() >= 4) {
                            floats.add(b.getFloat());
                        }
                    } else {
                        r.expect(ProtoReader.FIXED32);
                        floats.add(Float.intBitsToFloat(r.readFixed32()));
                    }
                }
                case 8 -> r.readVarints(ints);
                case 20 -> type = (int) r.readVarint();
                default -> r.skip();
            }
        }
        float[] fs = new float[floats.size()];
        for (int k = 0; k < fs.length; k++) {
            fs[k] = floats.get(k);
        }
        return new Attribute(name, type, f, i, s, t, fs, ints.toArray());
    }

    /** Parses one {@code TensorProto}, decoding FLOAT, DOUBLE, INT32 and INT64 data. */
    static TensorData parseTensor(ProtoReader r) {
        String name = "";
        int dataType = 0;
        ProtoReader.LongList dims = new ProtoReader.LongList();
        ByteBuffer raw = null;
        List<ByteBuffer> floatData = new ArrayList<>();
        ProtoReader.LongList intData = new ProtoReader.LongList();
        List<ByteBuffer> doubleData = new ArrayList<>();
        boolean external = false;
        while (r.next()) {
            switch (r.field()) {
                case 1 -> r.readVarints(dims);
                case 2 -> dataType = (int) r.readVarint();
                case 4 -> floatData.add(packedOrSingle(r, ProtoReader.FIXED32));
                case 5, 7 -> r.readVarints(intData);
                case 8 -> name = r.readString();
                case 9 -> raw = r.readBytes();
                case 10 -> doubleData.add(packedOrSingle(r, ProtoReader.FIXED64));
                case 14 -> external = r.readVarint() == 1;
                default -> r.skip();
            }
        }
        if (external) {
            throw new IllegalArgumentException("tensor '" + name + "' keeps its data in an external file, which is not supported");
        }
        long[] shape = dims.toArray();
        long count = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("tensor '" + name + "' has a negative dimension: " + Arrays.toString(shape));
            }
            count = Math.multiplyExact(count, d);
        }
        int n = Math.toIntExact(count);
        float[] floats = null;
        long[] longs = null;
        switch (dataType) {
            case FLOAT -> {
                floats = new float[n];
                if (raw != null) {
                    checkBytes(name, raw, n, 4);
                    raw.asFloatBuffer().get(floats);
                } else {
                    int at = 0;
                    for (ByteBuffer b : floatData) {
                        int k = b.remaining() / 4;
                        checkCount(name, at + k, n, at + k > n);
                        b.asFloatBuffer().get(floats, at, k);
                        at += k;
                    }
                    checkCount(name, at, n, at != n);
                }
            }
            case DOUBLE -> {
                floats = new float[n];
                if (raw != null) {
                    checkBytes(name, raw, n, 8);
                    for (int k = 0; k < n; k++) {
                        floats[k] = (float) raw.getDouble(8 * k);
                    }
                } else {
                    int at = 0;
                    for (ByteBuffer b : doubleData) {
                        while (b.remaining() >= 8) {
                            checkCount(name, at + 1, n, at >= n);
                            floats[at++] = (float) b.getDouble();
                        }
                    }
                    checkCount(name, at, n, at != n);
                }
            }
            case INT64, INT32 -> {
                longs = new long[n];
                if (raw != null) {
                    int width = dataType == INT64 ? 8 : 4;
                    checkBytes(name, raw, n, width);
                    for (int k = 0; k < n; k++) {
                        longs[k] = width == 8 ? raw.getLong(8 * k) : raw.getInt(4 * k);
                    }
                } else {
                    long[] v = intData.toArray();
                    checkCount(name, v.length, n, v.length != n);
                    for (int k = 0; k < n; k++) {
                        longs[k] = dataType == INT32 ? (int) v[k] : v[k];
                    }
                }
            }
            default -> {
                // other element types are kept as shape only; reading their values fails with a message
            }
        }
        return new TensorData(name, dataType, shape, floats, longs);
    }

    private static ByteBuffer packedOrSingle(ProtoReader r, int fixedType) {
        if (r.wireType() == ProtoReader.LENGTH_DELIMITED) {
            return r.readBytes();
        }
        r.expect(fixedType);
        ByteBuffer one = ByteBuffer.allocate(fixedType == ProtoReader.FIXED32 ? 4 : 8).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        if (fixedType == ProtoReader.FIXED32) {
            one.putInt(0, r.readFixed32());
        } else {
            one.putLong(0, r.readFixed64());
        }
        return one;
    }

    private static void checkBytes(String name, ByteBuffer raw, int count, int width) {
        if (raw.remaining() != (long) count * width) {
            throw new IllegalArgumentException("tensor '" + name + "' has " + raw.remaining() + " bytes of raw_data but its shape needs "
                    + (long) count * width);
        }
    }

    private static void checkCount(String name, int actual, int expected, boolean bad) {
        if (bad) {
            throw new IllegalArgumentException("tensor '" + name + "' has " + actual + " values but its shape needs " + expected);
        }
    }

    /**
     * A graph.
     *
     * @param name         its name
     * @param nodes        its nodes in file order (topologically sorted, as ONNX requires)
     * @param initializers its initializers by name
     * @param inputs       the names of its inputs
     * @param outputs      the names of its outputs
     */
    record Graph(String name, List<Node> nodes, Map<String, TensorData> initializers, List<String> inputs,
                 List<String> outputs) {
    }

    /**
     * A node.
     *
     * @param name       its name (may be empty)
     * @param opType     its operator
     * @param domain     its operator domain ("" is ONNX)
     * @param inputs     its input value names ("" for an omitted optional input)
     * @param outputs    its output value names
     * @param attributes its attributes by name
     */
    record Node(String name, String opType, String domain, List<String> inputs, List<String> outputs,
                Map<String, Attribute> attributes) {

        /** The attribute, or an exception naming the node. */
        Attribute attribute(String attr) {
            Attribute a = attributes.get(attr);
            if (a == null) {
                throw new IllegalArgumentException(opType + " node '" + name + "' has no attribute '" + attr + "'");
            }
            return a;
        }

        @Override
        public String toString() {
            return opType + (name.isEmpty() ? "" : " '" + name + "'") + " " + inputs + " -> " + outputs;
        }
    }

    /**
     * An attribute; only the fields of its {@code type} are meaningful.
     *
     * @param name   its name
     * @param type   {@code AttributeProto.AttributeType} (1 FLOAT, 2 INT, 3 STRING, 4 TENSOR, 6 FLOATS, 7 INTS)
     * @param f      FLOAT
     * @param i      INT
     * @param s      STRING (null if absent)
     * @param t      TENSOR (null if absent)
     * @param floats FLOATS
     * @param ints   INTS
     */
    record Attribute(String name, int type, float f, long i, String s, TensorData t, float[] floats, long[] ints) {
    }

    /**
     * A tensor's name, type, shape and decoded values.
     *
     * @param name     its name
     * @param dataType {@code TensorProto.DataType}
     * @param dims     its shape
     * @param floats   the values of a FLOAT or DOUBLE tensor (doubles rounded to float), else null
     * @param longs    the values of an INT32 or INT64 tensor, else null
     */
    record TensorData(String name, int dataType, long[] dims, float[] floats, long[] longs) {

        TensorData {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(dims, "dims");
        }

        /** The float values, or an exception naming the tensor and its type. */
        float[] floatValues() {
            if (floats == null) {
                throw new IllegalArgumentException("tensor '" + name + "' has data type " + dataType
                        + ", not FLOAT (1) or DOUBLE (11)");
            }
            return floats;
        }

        /** The integer values, or an exception naming the tensor and its type. */
        long[] longValues() {
            if (longs == null) {
                throw new IllegalArgumentException("tensor '" + name + "' has data type " + dataType
                        + ", not INT32 (6) or INT64 (7)");
            }
            return longs;
        }

        /** The shape as ints. */
        int[] shape() {
            int[] s = new int[dims.length];
            for (int k = 0; k < s.length; k++) {
                s[k] = Math.toIntExact(dims[k]);
            }
            return s;
        }

        /** The number of elements. */
        int elementCount() {
            long n = 1;
            for (long d : dims) {
                n *= d;
            }
            return Math.toIntExact(n);
        }

        @Override
        public String toString() {
            return "TensorData[" + name + " type=" + dataType + " dims=" + Arrays.toString(dims) + "]";
        }
    }
}
