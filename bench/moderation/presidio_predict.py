"""Runs Microsoft Presidio's pattern recognizers on the evaluation set.

Presidio's AnalyzerEngine needs a spaCy model, which is distributed outside the package registries
reachable here, so the recognizers are called directly without NLP artifacts: this is exactly
Presidio's pattern + checksum layer (context words are not used, as no tokens are available).
"""
import json
import sys

import tldextract

# Presidio's e-mail recognizer validates the domain with tldextract, which would try to download
# the public-suffix list; use the snapshot bundled in the package instead (no network here).
tldextract.tldextract.TLD_EXTRACTOR = tldextract.TLDExtract(suffix_list_urls=())
tldextract.extract = tldextract.tldextract.TLD_EXTRACTOR

from presidio_analyzer.predefined_recognizers import (
    CreditCardRecognizer, EmailRecognizer, IbanRecognizer, IpRecognizer, PhoneRecognizer, UsSsnRecognizer)

ENTITY = {"EMAIL_ADDRESS": "EMAIL", "PHONE_NUMBER": "PHONE", "CREDIT_CARD": "CARD", "IBAN_CODE": "IBAN",
          "US_SSN": "SSN", "IP_ADDRESS": "IP"}

recognizers = [EmailRecognizer(), PhoneRecognizer(supported_regions=("US", "UK", "DE", "FR", "IN", "BR", "ES", "IT")),
               CreditCardRecognizer(), IbanRecognizer(), UsSsnRecognizer(), IpRecognizer()]


def main(eval_path, out_path):
    with open(eval_path, encoding="utf-8") as f, open(out_path, "w", encoding="utf-8") as out:
        for line in f:
            doc = json.loads(line)
            preds = []
            for r in recognizers:
                for res in r.analyze(doc["text"], r.supported_entities, None) or []:
                    if res.entity_type in ENTITY:
                        preds.append({"entity": ENTITY[res.entity_type], "start": res.start, "end": res.end,
                                      "score": res.score})
            out.write(json.dumps({"id": doc["id"], "predictions": preds}) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
