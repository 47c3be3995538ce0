package io.cleargate.engine.embedded.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The safetensors files of a checkpoint directory, memory-mapped read-only. Either one or more
 * {@code *.safetensors} files, or shards listed by {@code model.safetensors.index.json}.
 * Closing the checkpoint unmaps every file; tensors must not be used afterwards.
 *
 * <p>File format: 8-byte little-endian header length N, N bytes of JSON
 * ({@code name -> {dtype, shape, data_offsets}} plus optional {@code __metadata__}), then the data;
 * offsets are relative to the first byte after the header.
 *
 * <p>A tensor of a dtype the engine cannot read (see {@link DType#SUPPORTED}) does not stop the
 * checkpoint from opening, since a model may never use it; asking for it fails with its name,
 * dtype and file.
 */
public final class Checkpoint implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long MAX_HEADER = 100L << 20;

    private final Arena arena = Arena.ofShared();
    private final Map<String, Tensor> tensors = new LinkedHashMap<>();
    /** Tensors of unreadable dtypes: name -> "dtype in file". */
    private final Map<String, String> unsupported = new LinkedHashMap<>();

    private Checkpoint() {}

    public static Checkpoint open(Path dir) {
        Checkpoint checkpoint = new Checkpoint();
        try {
            for (Path file : files(dir)) {
                checkpoint.map(file);
            }
        } catch (IOException | RuntimeException e) {
            checkpoint.close();
            if (e instanceof IOException io) {
                throw new UncheckedIOException("cannot read checkpoint " + dir + ": " + io.getMessage(), io);
            }
            throw (RuntimeException) e;
        }
        if (checkpoint.tensors.isEmpty()) {
            checkpoint.close();
            throw new IllegalArgumentException("no tensors found in " + dir);
        }
        return checkpoint;
    }

    /** The shard files named by the index, or every *.safetensors file in the directory. */
    static List<Path> files(Path dir) throws IOException {
        Path index = dir.resolve("model.safetensors.index.json");
        if (Files.exists(index)) {
            Set<Path> shards = new LinkedHashSet<>();
            JsonNode weightMap = JSON.readTree(Files.readString(index)).path("weight_map");
            for (Iterator<JsonNode> it = weightMap.elements(); it.hasNext(); ) {
                String name = it.next().asText();
                Path shard = dir.resolve(name).normalize();
                if (!shard.startsWith(dir.normalize())) {
                    throw new IllegalArgumentException("index names a shard outside the checkpoint: " + name);
                }
                shards.add(shard);
            }
            return new ArrayList<>(shards);
        }
        try (Stream<Path> list = Files.list(dir)) {
            return list.filter(p -> p.getFileName().toString().endsWith(".safetensors")).sorted().toList();
        }
    }

    private void map(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            MemorySegment whole = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), arena);
            if (whole.byteSize() < 8) {
                throw new IllegalArgumentException(file + " is too short for a safetensors file");
            }
            long headerLength = whole.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
            if (headerLength <= 0 || headerLength > MAX_HEADER || 8 + headerLength > whole.byteSize()) {
                throw new IllegalArgumentException(file + ": bad safetensors header length " + headerLength);
            }
            byte[] headerBytes = whole.asSlice(8, headerLength).toArray(ValueLayout.JAVA_BYTE);
            JsonNode header = JSON.readTree(new String(headerBytes, StandardCharsets.UTF_8));
            MemorySegment data = whole.asSlice(8 + headerLength);
            for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
                var entry = it.next();
                if (entry.getKey().equals("__metadata__")) {
                    continue;
                }
                String dtype = entry.getValue().path("dtype").asText();
                if (DType.ofSafetensors(dtype).isEmpty()) {
                    unsupported.put(entry.getKey(), dtype + " in " + file);
                    continue;
                }
                tensors.put(entry.getKey(), tensor(file, entry.getKey(), entry.getValue(), data));
            }
        }
    }

    private static Tensor tensor(Path file, String name, JsonNode info, MemorySegment data) {
        DType dtype = DType.ofSafetensors(info.path("dtype").asText()).orElseThrow();
        long[] shape = new long[info.path("shape").size()];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = info.path("shape").get(i).asLong();
        }
        long begin = info.path("data_offsets").get(0).asLong();
        long end = info.path("data_offsets").get(1).asLong();
        if (begin < 0 || end < begin || end > data.byteSize()) {
            throw new IllegalArgumentException(file + ": tensor " + name + " lies outside the file");
        }
        if (end - begin != Arrays.stream(shape).reduce(1, Math::multiplyExact) * dtype.bytes()) {
            throw new IllegalArgumentException(file + ": tensor " + name + " has " + (end - begin)
                    + " bytes, which does not match its shape " + Arrays.toString(shape) + " of " + dtype);
        }
        return new Tensor(name, dtype, shape, data.asSlice(begin, end - begin), file.toString());
    }

    /** The tensor, or empty when the checkpoint has none of that name; fails for an unreadable dtype. */
    public Optional<Tensor> find(String name) {
        String bad = unsupported.get(name);
        if (bad != null) {
            throw new IllegalArgumentException("tensor " + name + " has dtype " + bad
                    + ", which the engine does not support (it reads " + DType.SUPPORTED + ")");
        }
        return Optional.ofNullable(tensors.get(name));
    }

    public Tensor get(String name) {
        return find(name).orElseThrow(() -> new IllegalArgumentException("checkpoint has no tensor " + name));
    }

    /** Bytes of every readable tensor (what the model keeps mapped). */
    public long totalBytes() {
        return tensors.values().stream().mapToLong(t -> t.data().byteSize()).sum();
    }

    /** Names of every tensor in the files, readable or not. */
    public Set<String> names() {
        Set<String> all = new LinkedHashSet<>(tensors.keySet());
        all.addAll(unsupported.keySet());
        return all;
    }

    @Override
    public void close() {
        arena.close();
    }
}
