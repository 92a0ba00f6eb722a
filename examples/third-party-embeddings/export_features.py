"""Embed images.npy with a PyTorch model and save its patch tokens and a global feature as .npy.

    /usr/bin/python3 examples/third-party-embeddings/export_features.py runs/third-party

Stands in for your model: here a seeded, randomly initialised ViT-like encoder (patch 8, 96-d,
two torch.nn.TransformerEncoderLayer blocks, final LayerNorm). Replace `encoder` with anything that
maps [N, 3, H, W] to patch tokens (a timm or DINO ViT: `model.forward_features(x)[:, 1:]`).
Writes patches.npy float32 [N, h, w, D] (CLS dropped) and cls.npy float32 [N, D] (here the mean
patch token; a ViT's CLS token otherwise).
"""
import sys
from pathlib import Path

import numpy as np
import torch

PATCH, DIM = 8, 96


class Encoder(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Conv2d(3, DIM, PATCH, PATCH)
        self.pos = torch.nn.Parameter(torch.randn(1, 64, DIM) * 0.02)
        layer = torch.nn.TransformerEncoderLayer(DIM, 2, 4 * DIM, dropout=0.0, batch_first=True, norm_first=True)
        self.blocks = torch.nn.TransformerEncoder(layer, 2)
        self.norm = torch.nn.LayerNorm(DIM)

    def forward(self, x):
        t = self.embed(x).flatten(2).transpose(1, 2) + self.pos  # [N, h·w, D]
        return self.norm(self.blocks(t))


def main(folder: Path) -> None:
    torch.manual_seed(0)
    images = np.load(folder / "images.npy")  # [N, H, W, 3] in [0, 1]
    n, h, w = images.shape[0], images.shape[1] // PATCH, images.shape[2] // PATCH
    x = torch.from_numpy(images).permute(0, 3, 1, 2)
    x = (x - 0.5) / 0.25
    encoder = Encoder().eval()
    with torch.no_grad():
        tokens = torch.cat([encoder(x[i : i + 64]) for i in range(0, n, 64)])
    np.save(folder / "patches.npy", tokens.reshape(n, h, w, DIM).numpy().astype(np.float32))
    np.save(folder / "cls.npy", tokens.mean(1).numpy().astype(np.float32))
    print(f"wrote patches.npy {[n, h, w, DIM]} and cls.npy {[n, DIM]} to {folder}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "runs/third-party"))
