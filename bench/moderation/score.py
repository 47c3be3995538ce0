"""Scores predictions against the labelled set: precision, recall and F2 per entity (a predicted
span counts when it overlaps a labelled span of the same entity), and the bypass detection rate."""
import json
import sys
from collections import defaultdict

ENTITIES = ["EMAIL", "PHONE", "CARD", "IBAN", "SSN", "IP", "SECRET"]


def load(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(l) for l in f]


def overlaps(a, b):
    return a["start"] < b["end"] and b["start"] < a["end"]


def score(docs, preds, threshold):
    tp, fp, fn = defaultdict(int), defaultdict(int), defaultdict(int)
    bypass_hit, bypass_total = defaultdict(int), defaultdict(int)
    for doc, pred in zip(docs, preds):
        assert doc["id"] == pred["id"]
        p = [x for x in pred["predictions"] if x["score"] >= threshold]
        if doc["kind"] == "bypass":
            label = doc["labels"][0]
            key = doc["technique"] + "/" + label["entity"]
            bypass_total[key] += 1
            if any(x["entity"] == label["entity"] and overlaps(x, label) for x in p):
                bypass_hit[key] += 1
            continue
        for label in doc["labels"]:
            if any(x["entity"] == label["entity"] and overlaps(x, label) for x in p):
                tp[label["entity"]] += 1
            else:
                fn[label["entity"]] += 1
        for x in p:
            if x["entity"] in ENTITIES and not any(l["entity"] == x["entity"] and overlaps(x, l) for l in doc["labels"]):
                fp[x["entity"]] += 1
    return tp, fp, fn, bypass_hit, bypass_total


def f_beta(p, r, beta=2.0):
    return 0.0 if p + r == 0 else (1 + beta ** 2) * p * r / (beta ** 2 * p + r)


def report(name, docs, preds, threshold, supported):
    tp, fp, fn, bh, bt = score(docs, preds, threshold)
    print(f"\n## {name} (score >= {threshold})")
    print("| entity | TP | FP | FN | precision | recall | F2 |")
    print("|---|---|---|---|---|---|---|")
    for e in ENTITIES:
        if e not in supported:
            print(f"| {e} | - | - | - | n/a | n/a | n/a (no recognizer) |")
            continue
        p = tp[e] / (tp[e] + fp[e]) if tp[e] + fp[e] else 0.0
        r = tp[e] / (tp[e] + fn[e]) if tp[e] + fn[e] else 0.0
        print(f"| {e} | {tp[e]} | {fp[e]} | {fn[e]} | {p:.3f} | {r:.3f} | {f_beta(p, r):.3f} |")
    hit = sum(v for k, v in bh.items() if k.split("/")[1] in supported)
    total = sum(v for k, v in bt.items() if k.split("/")[1] in supported)
    print(f"\nBypass detection ({', '.join(sorted(supported & {'EMAIL', 'CARD', 'SECRET', 'INJECTION'}))}): "
          f"{hit}/{total} = {hit / total if total else 0:.3f}")
    by_tech = defaultdict(lambda: [0, 0])
    for k, v in bt.items():
        if k.split("/")[1] in supported:
            by_tech[k.split("/")[0]][1] += v
            by_tech[k.split("/")[0]][0] += bh[k]
    print("| technique | detected |")
    print("|---|---|")
    for t, (h, n) in sorted(by_tech.items()):
        print(f"| {t} | {h}/{n} = {h / n:.2f} |")


def main(eval_path, cleargate_path, presidio_path):
    docs = load(eval_path)
    print(f"documents: {sum(1 for d in docs if d['kind'] == 'eval')} eval "
          f"({sum(len(d['labels']) for d in docs if d['kind'] == 'eval')} labelled entities, "
          f"{sum(1 for d in docs if d['kind'] == 'eval' and not d['labels'])} hard-negative documents), "
          f"{sum(1 for d in docs if d['kind'] == 'bypass')} bypass")
    report("Cleargate default profile", docs, load(cleargate_path), 0.0,
           set(ENTITIES) | {"INJECTION"})
    presidio = load(presidio_path)
    supported = {"EMAIL", "PHONE", "CARD", "IBAN", "SSN", "IP"}
    report("Presidio pattern recognizers", docs, presidio, 0.0, supported)
    report("Presidio pattern recognizers", docs, presidio, 0.5, supported)


if __name__ == "__main__":
    main(*sys.argv[1:4])
