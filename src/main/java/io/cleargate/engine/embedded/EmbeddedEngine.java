package io.cleargate.engine.embedded;

import io.cleargate.domain.ChatMessage;
import io.cleargate.domain.EngineEvent;
import io.cleargate.domain.EngineException;
import io.cleargate.domain.EngineRequest;
import io.cleargate.domain.EngineStream;
import io.cleargate.engine.Engine;
import io.cleargate.engine.embedded.model.Model;
import io.cleargate.engine.embedded.model.Session;
import io.cleargate.engine.embedded.tokenizer.ChatTemplate;
import io.cleargate.engine.embedded.tokenizer.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The in-process DeepSeek engine: chat messages become a DeepSeek prompt, each request gets its
 * own {@link Session} (latent KV cache sized to prompt + max_tokens, never beyond the context) and
 * a virtual thread that generates into a bounded queue the caller drains.
 */
public final class EmbeddedEngine implements Engine {

    /**
     * @param maxContext   positions a sequence may use (capped by the model's max_position_embeddings)
     * @param maxSequences sequences generated concurrently; more are refused as UNAVAILABLE
     * @param queueSize    events buffered between generation and the consumer
     */
    public record Options(int maxContext, int maxSequences, int queueSize) {
        public Options {
            if (maxContext <= 1 || maxSequences <= 0 || queueSize <= 0) {
                throw new IllegalArgumentException("engine options must be positive: " + maxContext + "/" + maxSequences + "/" + queueSize);
            }
        }

        public static Options defaults() {
            return new Options(4096, 4, 64);
        }
    }

    private final Model model;
    private final Tokenizer tokenizer;
    private final ChatTemplate template;
    private final Generator generator;
    private final Options options;
    private final int contextLength;
    private final Set<Integer> eos;
    private final Semaphore slots;
    private final AtomicBoolean closed = new AtomicBoolean();

    public EmbeddedEngine(Model model, Tokenizer tokenizer, ChatTemplate template, Options options) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.template = template;
        this.options = options;
        this.generator = new Generator(model, tokenizer);
        this.contextLength = Math.min(options.maxContext(), model.config().maxPositionEmbeddings());
        Set<Integer> ids = new HashSet<>(model.config().eosTokenIds());
        ids.add(template.eosId());
        this.eos = Set.copyOf(ids);
        this.slots = new Semaphore(options.maxSequences());
    }

    /** Loads config.json, the safetensors weights, tokenizer.json and tokenizer_config.json from {@code dir}. */
    public static EmbeddedEngine load(Path dir, Options options) {
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("model directory " + dir + " does not exist");
        }
        Tokenizer tokenizer = Tokenizer.load(dir.resolve("tokenizer.json"));
        ChatTemplate template = ChatTemplate.load(dir.resolve("tokenizer_config.json"), tokenizer);
        Model model = Model.load(dir);
        if (tokenizer.vocabularySize() > model.config().vocabSize()) {
            model.close();
            throw new IllegalArgumentException("tokenizer has more tokens (" + tokenizer.vocabularySize()
                    + ") than the model's vocab_size (" + model.config().vocabSize() + ")");
        }
        return new EmbeddedEngine(model, tokenizer, template, options);
    }

    public Model model() {
        return model;
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    public int contextLength() {
        return contextLength;
    }

    /**
     * Plain chat only: tools (DeepSeek's tool-call template is not implemented), structured output
     * (no constrained decoding), log probabilities, several choices, penalties and logit biases are
     * refused by name rather than ignored.
     */
    @Override
    public List<String> unsupported(EngineRequest request) {
        var names = new java.util.ArrayList<>(request.options().requested());
        boolean toolConversation = request.messages().stream()
                .anyMatch(m -> m.role() == ChatMessage.Role.TOOL || !m.toolCalls().isEmpty());
        if (toolConversation && !names.contains("tools")) {
            names.addFirst("messages");
        }
        return names;
    }

    @Override
    public EngineStream open(EngineRequest request) throws EngineException {
        if (closed.get()) {
            throw new EngineException(EngineException.Kind.UNAVAILABLE, "embedded engine is shut down");
        }
        List<Integer> prompt = template.encode(request.messages());
        if (prompt.size() >= contextLength) {
            throw new EngineException(EngineException.Kind.INVALID_REQUEST, "the prompt has " + prompt.size()
                    + " tokens; this model's context is " + contextLength + " tokens");
        }
        Sampler sampler;
        try {
            sampler = new Sampler(new Sampler.Options(
                    request.temperature() == null ? 1.0 : request.temperature(),
                    request.topP() == null ? 1.0 : request.topP(), 0),
                    request.seed() != null ? request.seed() : ThreadLocalRandom.current().nextLong());
        } catch (IllegalArgumentException e) {
            throw new EngineException(EngineException.Kind.INVALID_REQUEST, e.getMessage());
        }
        // Bounded memory: the cache holds exactly prompt + max_tokens positions (at most the context).
        int capacity = Math.min(contextLength, prompt.size() + request.maxTokens());
        try {
            if (!slots.tryAcquire(100, TimeUnit.MILLISECONDS)) {
                throw new EngineException(EngineException.Kind.UNAVAILABLE, "embedded engine is busy ("
                        + options.maxSequences() + " sequences in progress)");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EngineException(EngineException.Kind.UNAVAILABLE, "interrupted while waiting for the engine", e);
        }
        Session session;
        try {
            session = model.newSession(capacity, Session.Form.ABSORBED);
        } catch (OutOfMemoryError e) {
            slots.release();
            throw new EngineException(EngineException.Kind.UNAVAILABLE, "not enough memory for the sequence cache", e);
        }
        Generator.Request generation = new Generator.Request(prompt, request.maxTokens(), sampler, request.stop(), eos);
        return new Stream(generation, session);
    }

    @Override
    public boolean healthy() {
        return !closed.get();
    }

    /** Waits briefly for running generations, then unmaps the weights. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            try {
                slots.tryAcquire(options.maxSequences(), 10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            model.close();
        }
    }

    /** One generation: a virtual thread produces events into a bounded queue; close() cancels it. */
    private final class Stream implements EngineStream {
        private final BlockingQueue<Object> queue = new ArrayBlockingQueue<>(options.queueSize());
        private final AtomicBoolean cancelled = new AtomicBoolean();
        private final Thread worker;
        private boolean finished;

        Stream(Generator.Request request, Session session) {
            worker = Thread.ofVirtual().name("embedded-generation").start(() -> run(request, session));
        }

        private void run(Generator.Request request, Session session) {
            try {
                Generator.Result result = generator.generate(request, session, text -> {
                    if (!text.isEmpty()) {
                        queue.put(new EngineEvent.Delta(text));
                    }
                }, cancelled::get);
                if (!result.finishReason().equals("cancelled")) {
                    queue.put(new EngineEvent.Finish(result.finishReason(),
                            new EngineEvent.Usage(request.prompt().size(), result.tokens().size())));
                }
            } catch (InterruptedException e) {
                // Cancelled while the queue was full: nothing is waiting for the rest.
            } catch (RuntimeException | Error e) {
                queue.offer(new EngineException(EngineException.Kind.BAD_RESPONSE, "embedded generation failed: " + e.getMessage(), e));
            } finally {
                slots.release();
            }
        }

        @Override
        public EngineEvent next() throws EngineException {
            if (finished) {
                throw new IllegalStateException("the stream has ended");
            }
            Object item;
            try {
                item = queue.take();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                close();
                throw new EngineException(EngineException.Kind.UNAVAILABLE, "interrupted while waiting for tokens", e);
            }
            if (item instanceof EngineException failure) {
                finished = true;
                throw failure;
            }
            EngineEvent event = (EngineEvent) item;
            if (event instanceof EngineEvent.Finish) {
                finished = true;
            }
            return event;
        }

        @Override
        public void close() {
            if (cancelled.compareAndSet(false, true)) {
                worker.interrupt();
                queue.clear();
            }
        }
    }
}
