package io.cleargate.engine.embedded.model;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The batched forward pass of the absorbed form as one {@link Team} region per call: every layer is
 * a fixed sequence of steps (norm with q_a and kv_a; latent norm, rope key and q_a norm with q_b;
 * attention heads; o_proj with the residual; norm with the router; routing plan; all experts' gate
 * and up; all experts' down with the weighted sum and the residual) and the team runs them all with
 * a barrier between steps. A norm whose result a product needs whole is made by every member
 * for itself at the start of the product's step, so it needs no barrier of its own; so are the
 * router's logits and routing plan of a single decoded token, at the start of the experts' gate and up, and its cache
 * row, at the start of a step in which each head's q_b rows are made by the member attending it.
 *
 * <p>Products are split by output rows and attention by heads, which members take in {@link Chunks}
 * from a shared counter (the experts' gate and up in units of rows of one expert); per-token work is
 * split statically by tokens. The split does not change
 * how any output is computed: a row, a head or a token is always done whole by one member with the
 * same operations, and sums over experts run in a fixed order, so any team size gives the same
 * numbers (up to the lane order of the Vector API's float reductions, which the API leaves open).
 */
final class Forward {

    private final ModelConfig config;
    private final Weights weights;
    private final Rope rope;
    private final Router router;
    private final float softmaxScale;
    private final Team team;
    /** Norm weights as f32 arrays (the checkpoint may hold them as bf16): read for every token. */
    private final float[][] inputNorm;
    private final float[][] postNorm;
    private final float[][] qANorm;
    private final float[][] kvANorm;
    private final float[] finalNorm;
    /** W_UV of each head of each layer (rows of kv_b_proj), made once rather than per token. */
    private final Matrix[][] valueUp;

    Forward(ModelConfig config, Weights weights, Rope rope, Router router, float softmaxScale, Team team) {
        this.config = config;
        this.weights = weights;
        this.rope = rope;
        this.router = router;
        this.softmaxScale = softmaxScale;
        this.team = team;
        int layers = config.numLayers();
        inputNorm = new float[layers][];
        postNorm = new float[layers][];
        qANorm = new float[layers][];
        kvANorm = new float[layers][];
        for (int l = 0; l < layers; l++) {
            Weights.Layer layer = weights.layers().get(l);
            inputNorm[l] = layer.inputNorm().toFloatArray();
            postNorm[l] = layer.postAttentionNorm().toFloatArray();
            qANorm[l] = layer.attention().lowRankQuery() ? layer.attention().qANorm().toFloatArray() : null;
            kvANorm[l] = layer.attention().kvANorm().toFloatArray();
        }
        finalNorm = weights.finalNorm().toFloatArray();
        int heads = config.numHeads();
        int nope = config.qkNopeHeadDim();
        int v = config.vHeadDim();
        valueUp = new Matrix[layers][heads];
        for (int l = 0; l < layers; l++) {
            for (int h = 0; h < heads; h++) {
                valueUp[l][h] = weights.layers().get(l).attention().kvB().rows(h * (nope + v) + nope, v);
            }
        }
    }

    Team team() {
        return team;
    }

    /**
     * Runs {@code n} tokens at positions {@code s.length ..} and returns the last token's logits when
     * wanted (a session buffer); {@code allLogits} (may be null) gets every row.
     */
    float[] run(Session s, int[] tokens, int n, boolean wantLogits, float[][] allLogits) {
        int pos0 = s.length;
        if (pos0 + n > s.capacity) {
            throw new IllegalStateException("session is full: capacity " + s.capacity);
        }
        for (int t = 0; t < n; t++) {
            if (tokens[t] < 0 || tokens[t] >= config.vocabSize()) {
                throw new IllegalArgumentException("token id " + tokens[t] + " outside the vocabulary of " + config.vocabSize());
            }
        }
        Pass p = new Pass(s, s.batch(n), tokens, n, pos0);
        List<Team.Step> steps = new ArrayList<>();
        for (int l = 0; l < config.numLayers(); l++) {
            p.layer(l, steps);
        }
        float[] all = null;
        if (allLogits != null) {
            all = new float[n * config.vocabSize()];
            p.allLogits(all, steps);
        } else if (wantLogits) {
            p.lastLogits(steps);
        }
        team.run(steps);
        s.length = pos0 + n;
        if (all != null) {
            int vocab = config.vocabSize();
            for (int t = 0; t < n; t++) {
                allLogits[t] = Arrays.copyOfRange(all, t * vocab, (t + 1) * vocab);
            }
            System.arraycopy(allLogits[n - 1], 0, s.logits, 0, vocab);
            return s.logits;
        }
        return wantLogits ? s.logits : null;
    }

    /** One call's state: the steps read and write it, each member its own share. */
    private final class Pass {
        final Session s;
        final Batch b;
        final int[] tokens;
        final int n;
        final int pos0;
        final int d = config.hiddenSize();
        /** The experts of the current MoE layer and their tokens, and the units of their gate/up rows; written by member 0 in the plan step. */
        Task[] tasks;
        Chunks gateUpUnits;

        Pass(Session s, Batch b, int[] tokens, int n, int pos0) {
            this.s = s;
            this.b = b;
            b.members(config, team.size());
            this.tokens = tokens;
            this.n = n;
            this.pos0 = pos0;
        }

        /**
         * Member m's normalised input for the first products of layer l: the embedding rows (layer 0)
         * or the residual stream, normalised for every token by every member. One extra norm per
         * member costs less than a barrier (decode: 3 of a layer's 11 barriers were for norms of one
         * token, each costing the waiting member several microseconds).
         */
        float[] inputOf(int l, int m) {
            float[] x = b.x;
            if (l == 0) {
                x = b.xOf(m);
                for (int t = 0; t < n; t++) {
                    weights.embed().read((long) tokens[t] * d, d, x, t * d);
                }
            }
            float[] xn = b.xnOf(m);
            for (int t = 0; t < n; t++) {
                rmsNorm(x, t * d, inputNorm[l], xn, t * d, d);
            }
            return xn;
        }

        /** Member m's post-attention norm of every token (member 0's copy is the shared one the experts read). */
        float[] postNormOf(int l, int m) {
            float[] xn = b.xnOf(m);
            for (int t = 0; t < n; t++) {
                rmsNorm(b.x, t * d, postNorm[l], xn, t * d, d);
            }
            return xn;
        }

        void layer(int l, List<Team.Step> steps) {
            Weights.Layer layer = weights.layers().get(l);
            Weights.Attention a = layer.attention();
            attention(l, a, steps);
            if (layer.moe() != null) {
                moe(l, layer.moe(), steps);
            } else {
                mlp(l, layer.mlp(), steps);
            }
        }

        // ---- Attention (MLA, absorbed) --------------------------------------------------

        void attention(int l, Weights.Attention a, List<Team.Step> steps) {
            int heads = config.numHeads();
            int qk = config.qkHeadDim();
            int nope = config.qkNopeHeadDim();
            int v = config.vHeadDim();
            int c = config.kvLoraRank();
            int r = config.qkRopeHeadDim();
            int qWidth = heads * qk;
            int ql = config.qLoraRank();
            // The query's first product and kv_a read the same normalised input: one step for both.
            Matrix first = a.lowRankQuery() ? a.qA() : a.q();
            float[] firstOut = a.lowRankQuery() ? b.qa : b.q;
            int firstWidth = a.lowRankQuery() ? ql : qWidth;
            Chunks firstRows = rowChunks(first.rows() + a.kvA().rows(), 4);
            steps.add((m, size) -> twoProducts(first, firstOut, firstWidth, a.kvA(), b.kv, c + r, inputOf(l, m), firstRows));
            // Per token (split by tokens): the rope angles of its position, and the normalised latent
            // and rotated rope key into the cache (one row of c + r per position). With a low-rank
            // query this shares a step with q_b, for which every member normalises all of q_a itself.
            float[] cache = s.latentKeys[l];
            int w = c + r;
            int half = r / 2;
            Team.Step cacheRows = (m, size) -> {
                for (int t = Team.start(n, m, size, 1); t < Team.start(n, m + 1, size, 1); t++) {
                    int pos = pos0 + t;
                    rmsNorm(b.kv, t * (c + r), kvANorm[l], cache, pos * w, c);
                    System.arraycopy(b.kv, t * (c + r) + c, cache, pos * w + c, r);
                    rope.angles(pos, b.cos, b.sin, t * half);
                    rope.apply(cache, pos * w + c, b.cos, b.sin, t * half);
                }
            };
            Matrix kvB = a.kvB();
            Chunks headChunks = Chunks.fixed(heads, 1);
            if (n == 1) {
                // One token: a member that takes a head makes that head's q_b rows itself and attends
                // right away, so q_b needs no step (and barrier) of its own. Every member makes the
                // token's rope angles and cache row [latent | rope key] privately (member 0 also
                // stores the row in the cache for the tokens after this one): no member reads a row
                // another member is writing in the same step.
                steps.add((m, size) -> {
                    HeadScratch own = HEAD_SCRATCH.get();
                    float[] cos = own.cos(half);
                    float[] sin = own.sin(half);
                    float[] current = own.current(w);
                    rmsNorm(b.kv, 0, kvANorm[l], current, 0, c);
                    System.arraycopy(b.kv, c, current, c, r);
                    rope.angles(pos0, cos, sin, 0);
                    rope.apply(current, c, cos, sin, 0);
                    if (m == 0) {
                        System.arraycopy(current, 0, cache, pos0 * w, w);
                    }
                    float[] qa = a.lowRankQuery() ? b.qaOf(m) : null;
                    if (qa != null) {
                        rmsNorm(b.qa, 0, qANorm[l], qa, 0, ql);
                    }
                    headChunks.take((h, to) -> {
                        if (qa != null) {
                            Kernels.matvecRows(a.qB(), qa, 0, b.q, 0, h * qk, (h + 1) * qk);
                        }
                        attendHead(kvB, valueUp[l][h], h, cache, current, cos, sin);
                    });
                });
            } else {
                if (a.lowRankQuery()) {
                    Chunks qbRows = rowChunks(a.qB().rows(), 4);
                    steps.add((m, size) -> {
                        cacheRows.run(m, size);
                        float[] qa = b.qaOf(m);
                        for (int t = 0; t < n; t++) {
                            rmsNorm(b.qa, t * ql, qANorm[l], qa, t * ql, ql);
                        }
                        TokenLanes.Input lanes = lanes(a.qB(), a.qB().rows(), qa, ql, ql);
                        qbRows.take((from, to) -> product(a.qB(), lanes, qa, ql, b.q, qWidth, from, to));
                    });
                } else {
                    steps.add(cacheRows);
                }
                // Heads attend independently, each head for every token of the batch.
                steps.add((m, size) -> headChunks.take((from, to) -> attendHead(kvB, valueUp[l][from], from, cache, null, b.cos, b.sin)));
            }
            // Output projection over the concatenated heads, then the residual for the same rows.
            Chunks oRows = rowChunks(d, 16);
            steps.add((m, size) -> {
                TokenLanes.Input lanes = lanes(a.o(), d, b.heads, heads * v, heads * v);
                oRows.take((from, to) -> {
                    product(a.o(), lanes, b.heads, heads * v, b.attnOut, d, from, to);
                    addRows(b.x, b.attnOut, from, to);
                });
            });
        }

        /**
         * One head for every token of the batch, absorbed. Each token's query row is [q_abs | q_pe]
         * with q_abs = q_nope . W_UK[h], laid out like a cache row [latent | rope key], so a score is
         * one dot product; scores against positions 0..pos (causal), softmax, and the weighted sum of
         * the cached latents goes up through W_UV[h]. In a batch these are matrix products (scores four
         * positions by four tokens, the weighted sum broadcasting each probability over a latent row),
         * and W_UK[h] and W_UV[h] are read once for the whole batch.
         */
        void attendHead(Matrix kvB, Matrix valueUp, int h, float[] cache, float[] current, float[] cos, float[] sin) {
            int heads = config.numHeads();
            int qk = config.qkHeadDim();
            int nope = config.qkNopeHeadDim();
            int v = config.vHeadDim();
            int c = config.kvLoraRank();
            int r = config.qkRopeHeadDim();
            int w = c + r;
            int qWidth = heads * qk;
            int headRows = h * (nope + v);
            int keys = pos0 + n;
            float[] q = b.q;
            HeadScratch scratch = HEAD_SCRATCH.get();
            float[] query = scratch.query(n * w);
            for (int t = 0; t < n; t++) {
                int pe = t * qWidth + h * qk + nope;
                rope.apply(q, pe, cos, sin, t * (r / 2));
                System.arraycopy(q, pe, query, t * w + c, r);
            }
            if (n == 1) {
                Arrays.fill(query, 0, c, 0f); // the rows below are added into it
                for (int j = 0; j < nope; j++) {
                    Kernels.axpyRow(kvB, headRows + j, q[h * qk + j], query, 0);
                }
            } else {
                float[] upKeys = scratch.upKeys(nope * c);
                float[] row = scratch.row(c);
                for (int j = 0; j < nope; j++) {
                    Kernels.decodeRow(kvB, headRows + j, row);
                    System.arraycopy(row, 0, upKeys, j * c, c);
                }
                Kernels.gemm(q, h * qk, qWidth, n, nope, false, upKeys, 0, c, c, query, 0, w);
            }
            float[] p = scratch.scores(n * keys);
            // With the token's own row given (one token), the cache is read up to the row before it.
            int cached = current == null ? keys : keys - 1;
            if (current == null) {
                Kernels.causalScores(query, n, w, cache, keys, p);
            } else {
                Kernels.causalScores(query, 1, w, cache, cached, p);
                p[cached] = Kernels.dot(query, 0, current, 0, w);
            }
            for (int t = 0; t < n; t++) {
                int seen = pos0 + t + 1;
                int row = t * keys;
                for (int u = 0; u < seen; u++) {
                    p[row + u] *= softmaxScale;
                }
                Kernels.softmax(p, row, seen);
                Arrays.fill(p, row + seen, row + keys, 0f); // a batch's later tokens are not seen
            }
            float[] oLatent = scratch.latent(n * c);
            Kernels.gemm(p, 0, keys, n, cached, true, cache, 0, w, c, oLatent, 0, c);
            if (current != null) {
                // The same fused multiply-add the product above would have made for this row, last.
                Kernels.axpy(p[cached], current, 0, oLatent, 0, c);
            }
            Kernels.matmulRows(valueUp, oLatent, 0, n, c, b.heads, h * v, heads * v, 0, v);
        }

        // ---- Feed-forward ---------------------------------------------------------------

        /** Dense SwiGLU: gate and up by rows of the inner dimension (with the activation), then down with the residual. */
        void mlp(int l, Weights.Mlp mlp, List<Team.Step> steps) {
            int inner = mlp.gate().rows();
            Chunks innerRows = rowChunks(inner, 4);
            steps.add((m, size) -> {
                float[] xn = postNormOf(l, m);
                TokenLanes.Input lanes = lanes(mlp.gate(), 2 * inner, xn, d, d);
                innerRows.take((from, to) -> {
                    product(mlp.gate(), lanes, xn, d, b.hidden1, inner, from, to);
                    product(mlp.up(), lanes, xn, d, b.hidden2, inner, from, to);
                    for (int t = 0; t < n; t++) {
                        Kernels.siluTimes(b.hidden1, b.hidden2, t * inner + from, t * inner + to);
                    }
                });
            });
            Chunks downRows = rowChunks(d, 16);
            steps.add((m, size) -> {
                TokenLanes.Input lanes = lanes(mlp.down(), d, b.hidden1, inner, inner);
                downRows.take((from, to) -> {
                    product(mlp.down(), lanes, b.hidden1, inner, b.ffnOut, d, from, to);
                    addRows(b.x, b.ffnOut, from, to);
                });
            });
        }

        /** DeepSeekMoE: router, plan (member 0), all experts' gate/up in one step, all experts' down with the sum (one token: router, plan, gate/up in one step). */
        void moe(int l, Weights.Moe moe, List<Team.Step> steps) {
            int e = config.nRoutedExperts();
            if (n == 1) {
                // One token: every member normalises it, computes all the router's logits (one row
                // per expert: 32 KB-128 KB of weights) and makes the same plan itself, then goes
                // straight on to the experts' gate and up, so neither the router nor the plan needs
                // a barrier of its own (its tasks copy nothing: an expert that sees every token reads
                // the batch's input in place). Member 0's plan is the one the down step reads.
                Chunks units = Chunks.open(1);
                steps.add((m, size) -> {
                    float[] logits = HEAD_SCRATCH.get().router(e);
                    float[] xn = postNormOf(l, m);
                    Kernels.matvecRows(moe.router(), xn, 0, logits, 0, 0, e);
                    Task[] mine = plan(moe, logits, xn); // reads this member's own normalised input: member 0 may still be writing its own
                    int total = unitsOf(mine);
                    if (m == 0) {
                        tasks = mine;
                    }
                    units.take(total, (from, to) -> expertsGateUp(mine, from, new TokenLanes.Input[1]));
                });
            } else {
                Chunks routerRows = rowChunks(e, 4);
                steps.add((m, size) -> rows(moe.router(), postNormOf(l, m), d, b.routerLogits, e, routerRows));
                steps.add((m, size) -> {
                    if (m == 0) {
                        tasks = plan(moe, b.routerLogits, b.xn);
                        gateUpUnits = Chunks.fixed(unitsOf(tasks), 1);
                    }
                });
                steps.add((m, size) -> {
                    TokenLanes.Input[] shared = new TokenLanes.Input[1];
                    gateUpUnits.take((from, to) -> expertsGateUp(tasks, from, shared));
                });
            }
            Chunks downRows = Chunks.of(d, team.size(), 16);
            steps.add((m, size) -> {
                TokenLanes.Input[] shared = new TokenLanes.Input[1];
                downRows.take((from, to) -> expertsDown(from, to, shared));
            });
        }

        /** Routes every token and lists each active expert's tokens (in token order, inputs from {@code xn}), then the shared expert. */
        Task[] plan(Weights.Moe moe, float[] routerLogits, float[] xn) {
            int e = config.nRoutedExperts();
            Router.Selection[] picks = new Router.Selection[n];
            int[] count = new int[e];
            for (int t = 0; t < n; t++) {
                picks[t] = router.select(Arrays.copyOfRange(routerLogits, t * e, (t + 1) * e), moe.scoreBias());
                for (int expert : picks[t].experts()) {
                    count[expert]++;
                }
            }
            List<Task> out = new ArrayList<>();
            Task[] byExpert = new Task[e];
            int[] cursor = new int[3];
            for (int j = 0; j < e; j++) {
                if (count[j] > 0) {
                    byExpert[j] = new Task(moe.experts().get(j), count[j], false, b, xn, n, d, cursor);
                    out.add(byExpert[j]);
                }
            }
            for (int t = 0; t < n; t++) {
                Router.Selection pick = picks[t];
                for (int k = 0; k < pick.experts().length; k++) {
                    byExpert[pick.experts()[k]].add(t, pick.weights()[k], xn, d);
                }
            }
            if (moe.shared() != null) {
                Task shared = new Task(moe.shared(), n, true, b, xn, n, d, cursor);
                for (int t = 0; t < n; t++) {
                    shared.add(t, 1f, xn, d);
                }
                out.add(shared);
            }
            return out.toArray(Task[]::new);
        }

        /**
         * From this many rows on, a step's f32 or bf16 product over a whole prefill chunk goes through {@link TokenLanes}
         * (one transpose of the batch per member); the router's 32 rows and a head's W_UV stay with {@link Panels}.
         */
        static final int LANE_ROWS = 128;

        /** Rows of an expert's gate and up per unit of work: small enough that members share the experts evenly. */
        static final int UNIT_ROWS = 32;

        /** Units of {@link #UNIT_ROWS} rows over all tasks (an expert's last unit may be shorter). */
        int unitsOf(Task[] all) {
            int units = 0;
            for (Task task : all) {
                task.firstUnit = units;
                units += (task.inner + UNIT_ROWS - 1) / UNIT_ROWS;
            }
            return units;
        }

        /**
         * Gate and up (and the activation) for one unit of rows of one expert of {@code all}. The shared
         * expert sees the whole batch: its units go through {@link TokenLanes} with the batch transposed once
         * per member and step, into {@code shared[0]} (null until this member's first shared unit).
         */
        void expertsGateUp(Task[] all, int unit, TokenLanes.Input[] shared) {
            for (int i = all.length - 1; i >= 0; i--) {
                Task task = all[i];
                if (unit >= task.firstUnit) {
                    int from = (unit - task.firstUnit) * UNIT_ROWS;
                    int to = Math.min(task.inner, from + UNIT_ROWS);
                    TokenLanes.Input lanes = task.shared ? sharedLanes(shared, task.mlp.gate(), task.in, task.inOff, d) : null;
                    if (lanes == null) {
                        gateUp(task.mlp, task.in, task.inOff, task.count, task.h1, task.h2, task.hOff, from, to);
                        return;
                    }
                    TokenLanes.matmulRows(task.mlp.gate(), lanes, task.h1, task.hOff, task.inner, from, to);
                    TokenLanes.matmulRows(task.mlp.up(), lanes, task.h2, task.hOff, task.inner, from, to);
                    for (int t = 0; t < n; t++) {
                        Kernels.siluTimes(task.h1, task.h2, task.hOff + t * task.inner + from, task.hOff + t * task.inner + to);
                    }
                    return;
                }
            }
        }

        /**
         * The shared expert's input ({@code cols} wide from {@code xOff}) transposed for {@link TokenLanes}, once per
         * member and step; null where that path does not run. Not held to {@link #LANE_ROWS}: one transpose serves
         * all of the member's shared units in the step (on the benchmark model 512 gate/up rows, 1024 down rows).
         */
        TokenLanes.Input sharedLanes(TokenLanes.Input[] shared, Matrix w, float[] x, int xOff, int cols) {
            if (shared[0] == null && Kernels.VECTOR && lanesFor(w)) {
                shared[0] = TokenLanes.of(x, xOff, n, cols, cols);
            }
            return shared[0];
        }

        /**
         * Down rows {@code from .. to} of every expert, then their weighted sum in a fixed order and the residual;
         * the shared expert's through {@link TokenLanes}, as in {@link #expertsGateUp}.
         */
        void expertsDown(int from, int to, TokenLanes.Input[] shared) {
            for (Task task : tasks) {
                TokenLanes.Input lanes = task.shared ? sharedLanes(shared, task.mlp.down(), task.h1, task.hOff, task.inner) : null;
                if (lanes != null) {
                    TokenLanes.matmulRows(task.mlp.down(), lanes, task.out, task.outOff, d, from, to);
                } else {
                    Kernels.matmulRows(task.mlp.down(), task.h1, task.hOff, task.count, task.inner, task.out, task.outOff, d,
                            from, to);
                }
            }
            for (int t = 0; t < n; t++) {
                Arrays.fill(b.ffnOut, t * d + from, t * d + to, 0f);
            }
            for (Task task : tasks) {
                for (int k = 0; k < task.count; k++) {
                    int t = task.tokens[k];
                    if (task.shared) {
                        for (int i = from; i < to; i++) {
                            b.ffnOut[t * d + i] += task.out[task.outOff + k * d + i];
                        }
                    } else {
                        Kernels.axpy(task.weights[k], task.out, task.outOff + k * d + from, b.ffnOut, t * d + from, to - from);
                    }
                }
            }
            addRows(b.x, b.ffnOut, from, to);
        }

        // ---- Logits ---------------------------------------------------------------------

        void allLogits(float[] out, List<Team.Step> steps) {
            int vocab = config.vocabSize();
            steps.add((m, size) -> normTokens(b.x, finalNorm, b.xn, d, m, size));
            Matrix head = weights.lmHead().rows(0, vocab);
            Chunks vocabRows = Chunks.of(vocab, team.size(), 4);
            steps.add((m, size) -> rows(head, b.xn, d, out, vocab, vocabRows));
        }

        void lastLogits(List<Team.Step> steps) {
            int vocab = config.vocabSize();
            Matrix head = weights.lmHead().rows(0, vocab);
            Chunks vocabRows = Chunks.of(vocab, team.size(), 4);
            steps.add((m, size) -> {
                float[] xn = b.xnOf(m); // every member normalises the last token itself (no barrier for it)
                rmsNorm(b.x, (n - 1) * d, finalNorm, xn, 0, d);
                vocabRows.take((from, to) -> Kernels.matvecRows(head, xn, 0, s.logits, 0, from, to));
            });
        }

        // ---- Shares ---------------------------------------------------------------------

        /**
         * Chunks of a product's rows: whole panels when the batch goes through {@link Panels} (16 tokens
         * and more), else about eight chunks a member, multiples of {@code align} rows.
         */
        Chunks rowChunks(int rows, int align) {
            return n >= Kernels.COPY_ROWS_FROM_TOKENS ? Chunks.panels(rows, team.size()) : Chunks.of(rows, team.size(), align);
        }

        /** Rows of {@code W x} over the batch, chunk by chunk. */
        void rows(Matrix w, float[] x, int xStride, float[] out, int outStride, Chunks rows) {
            rows.take((from, to) -> Kernels.matmulRows(w, x, 0, n, xStride, out, 0, outStride, from, to));
        }

        /** Two products of the same input as one row space, chunk by chunk. */
        void twoProducts(Matrix w1, float[] out1, int stride1, Matrix w2, float[] out2, int stride2, float[] xn, Chunks rows) {
            int rows1 = w1.rows();
            TokenLanes.Input lanes = lanes(w1, w1.rows() + w2.rows(), xn, d, d);
            rows.take((from, to) -> {
                if (from < rows1) {
                    product(w1, lanes, xn, d, out1, stride1, from, Math.min(to, rows1));
                }
                if (to > rows1) {
                    product(w2, lanes, xn, d, out2, stride2, Math.max(0, from - rows1), to - rows1);
                }
            });
        }

        /**
         * This member's batch {@code x} transposed for {@link TokenLanes} when the step's product of {@code rows}
         * rows of {@code w}'s kind goes that way (f32 or bf16 weights, a whole prefill chunk, enough rows that one transpose
         * of the batch costs less than packing the rows); else null.
         */
        TokenLanes.Input lanes(Matrix w, int rows, float[] x, int xStride, int cols) {
            if (!Kernels.VECTOR || rows < LANE_ROWS || !lanesFor(w)) {
                return null;
            }
            return TokenLanes.of(x, 0, n, xStride, cols);
        }

        /**
         * Whether {@link TokenLanes} takes {@code w}'s kind of weights: f32, and bf16 unless
         * {@code -Dcleargate.engine.bf16Lanes=false} (bf16 through {@link Panels} as before speed.md 64, for A/B jobs).
         */
        static boolean lanesFor(Matrix w) {
            return w.scale() == null && (w.tensor().dtype() == DType.F32 || w.tensor().dtype() == DType.BF16 && BF16_LANES);
        }

        static final boolean BF16_LANES = !"false".equals(System.getProperty("cleargate.engine.bf16Lanes"));

        /** Rows {@code from .. to} of {@code W x} over the batch: with the tokens in lanes when {@code lanes} is given. */
        void product(Matrix w, TokenLanes.Input lanes, float[] x, int xStride, float[] out, int outStride, int from, int to) {
            if (lanes != null && lanesFor(w)) {
                TokenLanes.matmulRows(w, lanes, out, 0, outStride, from, to);
            } else {
                Kernels.matmulRows(w, x, 0, n, xStride, out, 0, outStride, from, to);
            }
        }

        void normTokens(float[] x, float[] w, float[] out, int width, int m, int size) {
            for (int t = Team.start(n, m, size, 1); t < Team.start(n, m + 1, size, 1); t++) {
                rmsNorm(x, t * width, w, out, t * width, width);
            }
        }

        /** {@code x[t][i] += y[t][i]} for rows {@code from .. to} of every token. */
        void addRows(float[] x, float[] y, int from, int to) {
            for (int t = 0; t < n; t++) {
                int base = t * d;
                for (int i = base + from; i < base + to; i++) {
                    x[i] += y[i];
                }
            }
        }
    }

    /**
     * A thread's buffers for {@link Pass#attendHead}, grown as needed and reused by its next head: new
     * arrays per head were ~230 KB per head of a 64-token prefill (15 MB per prefill), zeroed and later
     * collected. Every buffer is written before it is read (the latent query part of a single token,
     * which the head adds rows into, is cleared first).
     */
    private static final class HeadScratch {
        private float[] query = new float[0];
        private float[] upKeys = new float[0];
        private float[] row = new float[0];
        private float[] scores = new float[0];
        private float[] latent = new float[0];
        private float[] current = new float[0];
        private float[] cos = new float[0];
        private float[] sin = new float[0];
        private float[] router = new float[0];

        /** One decoded token's router logits, made privately by each member. */
        float[] router(int n) {
            return router.length >= n ? router : (router = new float[n]);
        }

        /** One decoded token's cache row [latent | rope key], made privately by each member. */
        float[] current(int n) {
            return current.length >= n ? current : (current = new float[n]);
        }

        float[] cos(int n) {
            return cos.length >= n ? cos : (cos = new float[n]);
        }

        float[] sin(int n) {
            return sin.length >= n ? sin : (sin = new float[n]);
        }

        float[] query(int n) {
            return query.length >= n ? query : (query = new float[n]);
        }

        float[] upKeys(int n) {
            return upKeys.length >= n ? upKeys : (upKeys = new float[n]);
        }

        float[] row(int n) {
            return row.length >= n ? row : (row = new float[n]);
        }

        float[] scores(int n) {
            return scores.length >= n ? scores : (scores = new float[n]);
        }

        float[] latent(int n) {
            return latent.length >= n ? latent : (latent = new float[n]);
        }
    }

    private static final ThreadLocal<HeadScratch> HEAD_SCRATCH = ThreadLocal.withInitial(HeadScratch::new);

    /** RMSNorm: {@code x * rsqrt(mean(x^2) + eps) * w}; {@code out} may be {@code x}. */
    private void rmsNorm(float[] x, int xOff, float[] w, float[] out, int outOff, int width) {
        // The sum of squares in f32 vectors: the scalar double loop was ~1.5% of a 64-token prefill.
        double ss = Kernels.dot(x, xOff, x, xOff, width);
        float inv = (float) (1.0 / Math.sqrt(ss / width + config.rmsNormEps()));
        for (int i = 0; i < width; i++) {
            out[outOff + i] = w[i] * (x[xOff + i] * inv);
        }
    }

    /**
     * Rows {@code from .. to} of gate and up for {@code n} tokens (inputs from {@code x[xOff ..]}, hidden rows
     * from {@code h1[hOff ..]} and {@code h2[hOff ..]}), then {@code h1 = silu(gate) * up} on them.
     */
    private static void gateUp(Weights.Mlp mlp, float[] x, int xOff, int n, float[] h1, float[] h2, int hOff, int from, int to) {
        int d = mlp.gate().cols();
        int inner = mlp.gate().rows();
        Kernels.matmulRows(mlp.gate(), x, xOff, n, d, h1, hOff, inner, from, to);
        Kernels.matmulRows(mlp.up(), x, xOff, n, d, h2, hOff, inner, from, to);
        for (int t = 0; t < n; t++) {
            Kernels.siluTimes(h1, h2, hOff + t * inner + from, hOff + t * inner + to);
        }
    }

    /** One expert of one MoE layer: its tokens, their routing weights, input rows and buffers. */
    private static final class Task {
        final Weights.Mlp mlp;
        final int count;
        final int inner;
        /** The shared expert: every token, plain sum (no routing weight). */
        final boolean shared;
        final int[] tokens;
        final float[] weights;
        /** Input rows from {@code inOff}: the batch's normalised input itself when the expert sees every token (in order). */
        final float[] in;
        final int inOff;
        /** This expert's slices of the batch's hidden and output buffers. */
        final float[] h1;
        final float[] h2;
        final int hOff;
        final float[] out;
        final int outOff;
        private int filled;
        /** Index of this expert's first unit of gate/up rows. */
        int firstUnit;

        /** {@code cursor}: how much of the batch's expert input, hidden and output buffers earlier tasks took. */
        Task(Weights.Mlp mlp, int count, boolean shared, Batch b, float[] xn, int n, int d, int[] cursor) {
            this.mlp = mlp;
            this.count = count;
            this.inner = mlp.gate().rows();
            this.shared = shared;
            this.tokens = new int[count];
            this.weights = new float[count];
            if (count == n) {
                this.in = xn;
                this.inOff = 0;
            } else {
                this.in = b.expertIn;
                this.inOff = cursor[0];
                cursor[0] += count * d;
            }
            this.h1 = b.expertHidden1;
            this.h2 = b.expertHidden2;
            this.hOff = cursor[1];
            cursor[1] += count * inner;
            this.out = b.expertOut;
            this.outOff = cursor[2];
            cursor[2] += count * d;
        }

        void add(int token, float weight, float[] xn, int d) {
            tokens[filled] = token;
            weights[filled] = weight;
            if (in != xn) {
                System.arraycopy(xn, token * d, in, inOff + filled * d, d);
            }
            filled++;
        }
    }
}
