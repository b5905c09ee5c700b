"""Parses a Prometheus text exposition with the reference client's parser
(Debian's python3-prometheus-client) and prints each sample as NAME{k=v,...} VALUE, sorted,
or "invalid: why" if the parser refuses the text."""
import sys

from prometheus_client.parser import text_string_to_metric_families


def main():
    text = open(sys.argv[1], encoding="utf-8").read()
    try:
        lines = []
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
                lines.append(f"{sample.name}{{{labels}}} {sample.value:g}")
    except Exception as error:  # the parser's own complaint is the message
        print(f"invalid: {error}")
        return
    print("\n".join(sorted(lines)))


if __name__ == "__main__":
    main()
