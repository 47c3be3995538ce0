package io.cleargate.engine.embedded.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
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
 * The safetensors files of a checkpoint directory, memory-mapped read-only (or copied out, see
 * {@link #COPY}). Either one or more
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

    /** Whether tensors are copied out of the files (see {@link #COPY}). */
    private final boolean copy;

    private Checkpoint(boolean copy) {
        this.copy = copy;
    }

    /** The checkpoint with its weights mapped, or copied when {@code -Dcleargate.engine.weights=copied}. */
    public static Checkpoint open(Path dir) {
        return open(dir, COPY);
    }

    /** The checkpoint with its tensors mapped from the files or, with {@code copy}, copied out of them (see {@link #COPY}). */
    public static Checkpoint open(Path dir, boolean copy) {
        Checkpoint checkpoint = new Checkpoint(copy);
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
        // With copied weights the file is mapped only while its tensors are copied out.
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ); Arena fileArena = Arena.ofConfined()) {
            MemorySegment whole = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), copy ? fileArena : arena);
            if (!copy) {
                adviseHugePages(whole);
                // The same mapping seen as a plain native segment (same scope: unmapped with the arena). The
                // vector loads from the weights share the JDK's code with the loads from the engine's own
                // off-heap scratch (Panels' panels), whose type profiles then saw two segment classes: f32
                // decode ran at 0.74 of its speed on one thread with mapped weights and aligned panels (speed.md 56).
                whole = MemorySegment.ofAddress(whole.address()).reinterpret(whole.byteSize(), arena, null);
            }
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
            Map<String, Tensor> read = new LinkedHashMap<>();
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
                read.put(entry.getKey(), tensor(file, entry.getKey(), entry.getValue(), data));
            }
            tensors.putAll(copy ? copied(read) : read);
        }
    }

    /**
     * {@code -Dcleargate.engine.weights=copied}: every tensor copied out of the mapped file into
     * anonymous memory that the kernel is asked to back with 2 MB pages, each tensor from a 64-byte
     * boundary. Mapped, a safetensors tensor starts wherever the header left it (8-byte aligned), so
     * most 64-byte vector loads of its rows straddle two cache lines, and its 4 KB pages of page cache
     * need a TLB entry each. Costs a copy at load and the weights' size in anonymous memory.
     */
    public static final boolean COPY = "copied".equals(System.getProperty("cleargate.engine.weights"));

    private static final long LINE = 64;

    private Map<String, Tensor> copied(Map<String, Tensor> mapped) {
        long total = 0;
        for (Tensor t : mapped.values()) {
            total += (t.data().byteSize() + LINE - 1) / LINE * LINE;
        }
        if (total == 0) {
            return mapped;
        }
        MemorySegment block = hugePages(Math.max(total, LINE), arena);
        Map<String, Tensor> out = new LinkedHashMap<>();
        long at = 0;
        for (var e : mapped.entrySet()) {
            Tensor t = e.getValue();
            long bytes = t.data().byteSize();
            MemorySegment copy = block.asSlice(at, bytes);
            copy.copyFrom(t.data());
            out.put(e.getKey(), new Tensor(t.name(), t.dtype(), t.shape(), copy, t.file()));
            at += (bytes + LINE - 1) / LINE * LINE;
        }
        return out;
    }

    private static final int PROT_READ_WRITE = 0x3;
    private static final int MAP_PRIVATE_ANONYMOUS = 0x22;
    private static final int MADV_HUGEPAGE = 14;

    /** {@code bytes} of zeroed anonymous memory (mmap), advised for transparent huge pages before any is touched; unmapped with {@code owner}. */
    private static MemorySegment hugePages(long bytes, Arena owner) {
        try {
            MemorySegment addr = (MemorySegment) Native.MMAP.invokeExact(MemorySegment.NULL, bytes, PROT_READ_WRITE,
                    MAP_PRIVATE_ANONYMOUS, -1, 0L);
            if (addr.address() == -1L) {
                throw new IllegalStateException("mmap of " + bytes + " bytes for the weights failed");
            }
            // The advice may be refused (THP off): the weights then sit on ordinary pages, still aligned.
            int ignored = (int) Native.MADVISE.invokeExact(addr, bytes, MADV_HUGEPAGE);
            return addr.reinterpret(bytes, owner, segment -> unmap(segment, bytes));
        } catch (Throwable e) {
            throw e instanceof RuntimeException r ? r : new IllegalStateException(e);
        }
    }

    private static void unmap(MemorySegment segment, long bytes) {
        try {
            int ignored = (int) Native.MUNMAP.invokeExact(segment, bytes);
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Asks the kernel to back the mapped file with 2 MB pages where it reads it from disk. On Linux 6.x with
     * a filesystem of large folios (ext4 since 6.16) a page-cache miss in a range advised so reads a whole
     * 2 MB folio and maps it with one page-table entry (one TLB entry instead of 512); without the advice
     * readahead grows folios slowly and most of a cold read stayed on 4 KB pages (engine16, speed.md 49:
     * a 64 MB file read cold was 37% PMD-mapped without the advice, 100% with it). Pages already in the
     * cache keep their size, so this matters when the weights are read from disk (a server's start), not
     * when another process has just read or written the file. Advice only: refused or ignored where THP is
     * off or the filesystem has no large folios, and then nothing changes.
     */
    private static void adviseHugePages(MemorySegment mapped) {
        if (!LINUX || mapped.byteSize() < HUGE_PAGE) {
            return;
        }
        try {
            int ignored = (int) Native.MADVISE.invokeExact(mapped, mapped.byteSize(), MADV_HUGEPAGE);
        } catch (Throwable e) {
            // Advice only: the mapping works as it is.
        }
    }

    private static final boolean LINUX = System.getProperty("os.name", "").startsWith("Linux");
    private static final long HUGE_PAGE = 2L << 20;

    /** libc's mmap, madvise and munmap, looked up at the first copy or advice. */
    private static final class Native {
        static final Linker LINKER = Linker.nativeLinker();
        static final MethodHandle MMAP = fn("mmap", FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS,
                ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
        static final MethodHandle MADVISE = fn("madvise", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
                ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
        static final MethodHandle MUNMAP = fn("munmap", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
                ValueLayout.JAVA_LONG));

        private static MethodHandle fn(String name, FunctionDescriptor descriptor) {
            return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(), descriptor);
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
