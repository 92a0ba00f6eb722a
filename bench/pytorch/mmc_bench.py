#!/usr/bin/python3
"""PyTorch side of @mmc's speed comparison (docs/benchmarks.md).

The same work as bench/run.mjs, written directly in PyTorch / numpy:

* ``train``: one MMC training step: two views per image (random resized crop, flip, GMML block
  corruption with noise or blocks of another image), EMA teacher on the clean views, student ViT +
  pixel decoder + two MoCo v3 projection heads (BatchNorm) on the corrupted views, the three MMC
  losses (L1 on corrupted pixels, patch momentum contrast against all tokens of the other images,
  cross-view CLS infoNCE; T = 0.2), backward, global grad-norm clip 3.0, AdamW (no decay on biases
  and 1-D parameters), EMA update of the teacher.
* ``forward``: the student backbone alone on one batch (no grad).
* ``knn``: weighted k-NN (k = 20, T = 0.07, cosine) of 10,000 queries against 60,000 × 384 features.
* ``simdist``: intra/inter-class cosine-similarity histograms (100 bins) of 10^6 pairs, both as all
  pairs of 1,415 patches and as 10^6 pairs sampled from 100,000 patches.
* ``segment``: prompt segmentation of 1,000 images of 30×30 tokens × 384 (similarity to the centre
  token, bilinear upsampling to 480×480, threshold 0.3).

Run with Debian's PyTorch (``apt-get install -y python3-torch libopenblas0-pthread``), not a pyenv
python: ``/usr/bin/python3 bench/pytorch/mmc_bench.py --threads 2``. Prints one JSON object per
measurement (median / min / max seconds over ``--repeats`` runs after warm-up) and a table.
"""
import argparse
import copy
import json
import math
import platform
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# ViT configurations shared with bench/run.mjs (keep the two lists identical).
CONFIGS = {
    'tiny32': dict(image=32, patch=4, dim=192, depth=12, heads=3),
    'tiny64': dict(image=64, patch=8, dim=192, depth=12, heads=3),
    'small32': dict(image=32, patch=4, dim=384, depth=12, heads=6),
    'small64': dict(image=64, patch=8, dim=384, depth=12, heads=6),
    'demo': dict(image=64, patch=8, dim=64, depth=4, heads=2),
}


class Block(nn.Module):
    """Pre-norm transformer block, timm's non-fused attention, exact GELU, LayerNorm eps 1e-6."""

    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.fc1 = nn.Linear(dim, 4 * dim)
        self.fc2 = nn.Linear(4 * dim, dim)

    def forward(self, x):
        b, t, d = x.shape
        hd = d // self.heads
        qkv = self.qkv(self.norm1(x)).reshape(b, t, 3, self.heads, hd).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = ((q * hd ** -0.5) @ k.transpose(-2, -1)).softmax(-1)
        x = x + self.proj((attn @ v).transpose(1, 2).reshape(b, t, d))
        return x + self.fc2(F.gelu(self.fc1(self.norm2(x))))


class ViT(nn.Module):
    """ViT with a CLS token and learned position embedding; returns (cls, patch tokens)."""

    def __init__(self, image, patch, dim, depth, heads):
        super().__init__()
        n = (image // patch) ** 2
        self.patch_embed = nn.Conv2d(3, dim, patch, stride=patch)
        self.cls_token = nn.Parameter(torch.randn(1, 1, dim) * 0.02)
        self.pos_embed = nn.Parameter(torch.randn(1, n + 1, dim) * 0.02)
        self.blocks = nn.ModuleList([Block(dim, heads) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)

    def forward(self, images):
        x = self.patch_embed(images).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], 1) + self.pos_embed
        for blk in self.blocks:
            x = blk(x)
        x = self.norm(x)
        return x[:, 0], x[:, 1:]


class Head(nn.Module):
    """MoCo v3 projector: (Linear, BatchNorm, GELU) × (layers − 1), Linear, BatchNorm without affine.
    BatchNorm uses the statistics of the current batch over all leading axes, no running averages."""

    def __init__(self, din, hidden, dout, layers=3):
        super().__init__()
        mods = []
        for i in range(layers):
            a = din if i == 0 else hidden
            last = i == layers - 1
            b = dout if last else hidden
            mods.append(nn.Linear(a, b))
            mods.append(nn.BatchNorm1d(b, affine=not last, track_running_stats=False))
            if not last:
                mods.append(nn.GELU())
        self.mlp = nn.Sequential(*mods)

    def forward(self, x):
        lead = x.shape[:-1]
        return self.mlp(x.reshape(-1, x.shape[-1])).reshape(*lead, -1)


def gmml_masks(rng, b, image, patch, ratio_hi, ratio_lo=0.5, max_block=0.3):
    """Patch-aligned random rectangles until U(min(0.5, r), r)·H·W pixels are covered: [b, H, W] bool."""
    g = image // patch
    out = np.zeros((b, image, image), dtype=bool)
    mx = max(2, int(max_block * g) + 1)
    for i in range(b):
        cells = np.zeros((g, g), dtype=bool)
        target = rng.uniform(min(ratio_lo, ratio_hi), ratio_hi) * g * g
        while cells.sum() < target:
            h, w = rng.integers(1, mx), rng.integers(1, mx)
            r, c = rng.integers(0, g - h + 1), rng.integers(0, g - w + 1)
            cells[r:r + h, c:c + w] = True
        out[i] = np.kron(cells, np.ones((patch, patch), dtype=bool))
    return out


def crop_flip(x, rng, out_size, scale=(0.4, 1.0)):
    """Random resized crop (area in `scale`, aspect in [3/4, 4/3]) + horizontal flip, one affine grid."""
    b = x.shape[0]
    theta = torch.zeros(b, 2, 3)
    for i in range(b):
        area = rng.uniform(*scale)
        ratio = math.exp(rng.uniform(math.log(3 / 4), math.log(4 / 3)))
        w = min(1.0, math.sqrt(area * ratio))
        h = min(1.0, math.sqrt(area / ratio))
        cx = rng.uniform(-1 + w, 1 - w)
        cy = rng.uniform(-1 + h, 1 - h)
        theta[i, 0, 0] = w * (-1 if rng.random() < 0.5 else 1)
        theta[i, 0, 2] = cx
        theta[i, 1, 1] = h
        theta[i, 1, 2] = cy
    grid = F.affine_grid(theta, [b, x.shape[1], out_size, out_size], align_corners=False)
    return F.grid_sample(x, grid, mode='bilinear', align_corners=False)


def views(x, rng, image, patch):
    """Two (clean, corrupted, pixel mask) views of NCHW images in [0, 1], normalised as @mmc's scenes."""
    x = (x - 0.5) / 0.25
    clean, corrupted, masks = [], [], []
    b = x.shape[0]
    for _ in range(2):
        c = crop_flip(x, rng, image)
        replaced = rng.random(b) < 0.5
        m = gmml_masks(rng, b, image, patch, 0.75)
        m_rep = gmml_masks(rng, b, image, patch, 0.3, 0.3)
        m[replaced] = m_rep[replaced]
        donor = (np.arange(b) + rng.integers(1, b, size=b)) % b
        fill = torch.randn_like(c)
        rep = torch.from_numpy(replaced)[:, None, None, None]
        fill = torch.where(rep, c[torch.from_numpy(donor)], fill)
        mt = torch.from_numpy(m)[:, None]
        corrupted.append(torch.where(mt, fill, c))
        clean.append(c)
        masks.append(mt.float())
    return torch.cat(clean), torch.cat(corrupted), torch.cat(masks)


def unpatchify(t, patch, image):
    b, n, _ = t.shape
    g = image // patch
    return t.reshape(b, g, g, patch, patch, 3).permute(0, 5, 1, 3, 2, 4).reshape(b, 3, image, image)


def patch_contrast(s, t, temp):
    """Each student token vs the teacher token at the same position; negatives: all tokens of the other images."""
    b, n, d = s.shape
    q = F.normalize(s.reshape(b * n, d), dim=-1)
    k = F.normalize(t.reshape(b * n, d), dim=-1)
    logits = q @ k.t() / temp
    pos = (q * k).sum(-1, keepdim=True) / temp
    img = torch.arange(b).repeat_interleave(n)
    logits = logits.masked_fill(img[:, None] == img[None, :], float('-inf'))
    return (torch.logsumexp(torch.cat([pos, logits], 1), 1) - pos[:, 0]).mean()


def info_nce(q, k, temp):
    logits = F.normalize(q, dim=-1) @ F.normalize(k, dim=-1).t() / temp
    return F.cross_entropy(logits, torch.arange(q.shape[0]))


class MMC:
    """Student (backbone + decoder + patch/global heads), EMA teacher, AdamW: one `step(images)`."""

    def __init__(self, cfg, head_hidden, head_out=256):
        self.cfg = cfg
        self.backbone = ViT(**cfg)
        d, p = cfg['dim'], cfg['patch']
        self.decoder = nn.Linear(d, p * p * 3)
        self.patch_head = Head(d, head_hidden, head_out)
        self.global_head = Head(d, head_hidden, head_out)
        self.student = nn.ModuleList([self.backbone, self.decoder, self.patch_head, self.global_head])
        self.teacher = copy.deepcopy(nn.ModuleList([self.backbone, self.patch_head, self.global_head]))
        for prm in self.teacher.parameters():
            prm.requires_grad_(False)
        decay = [prm for name, prm in self.student.named_parameters() if prm.ndim > 1 and not name.endswith('.bias')]
        no_decay = [prm for name, prm in self.student.named_parameters() if not (prm.ndim > 1 and not name.endswith('.bias'))]
        self.opt = torch.optim.AdamW([{'params': decay}, {'params': no_decay, 'weight_decay': 0.0}], lr=5e-4 * 32 / 256, weight_decay=0.04)
        self.ema_pairs = list(zip(self.teacher.parameters(), [*self.backbone.parameters(), *self.patch_head.parameters(), *self.global_head.parameters()]))

    def step(self, images, rng, temp=0.2):
        image, patch = self.cfg['image'], self.cfg['patch']
        clean, corrupted, pmask = views(images, rng, image, patch)
        b = images.shape[0]
        with torch.no_grad():
            t_cls, t_patch = self.teacher[0](clean)
            tp = self.teacher[1](t_patch)
            tg = self.teacher[2](t_cls)
        s_cls, s_patch = self.backbone(corrupted)
        rec = unpatchify(self.decoder(s_patch), patch, image)
        sp = self.patch_head(s_patch)
        sg = self.global_head(s_cls)
        mim = 0.0
        pc = 0.0
        for v in range(2):
            sl = slice(v * b, (v + 1) * b)
            m = pmask[sl]
            mim = mim + ((rec[sl] - clean[sl]).abs() * m).sum() / (3 * m.sum()).clamp_min(1) / 2
            pc = pc + patch_contrast(sp[sl], tp[sl], temp) / 2
        glob = (info_nce(sg[:b], tg[b:], temp) + info_nce(sg[b:], tg[:b], temp)) / 2
        loss = mim + pc + glob
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.student.parameters(), 3.0)
        self.opt.step()
        with torch.no_grad():
            for pt, ps in self.ema_pairs:
                pt.mul_(0.996).add_(ps.detach(), alpha=0.004)
        return loss


def summary(ts):
    return {'median': statistics.median(ts), 'min': min(ts), 'max': max(ts), 'runs': len(ts)}


def timed(fn, repeats, warmup):
    """Wall seconds of `repeats` runs after `warmup` (median, min, max); CPU seconds (all threads) under 'cpu'."""
    for _ in range(warmup):
        fn()
    ts, cs = [], []
    for _ in range(repeats):
        c0 = time.process_time()
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
        cs.append(time.process_time() - c0)
    return {**summary(ts), 'cpu': summary(cs)}


def bench_train(name, batch, head_hidden, repeats, warmup):
    cfg = CONFIGS[name]
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    model = MMC(cfg, head_hidden)
    data = torch.rand(256, 3, cfg['image'], cfg['image'])

    def one():
        idx = torch.from_numpy(rng.integers(0, data.shape[0], size=batch))
        model.step(data[idx], rng)

    train = timed(one, repeats, warmup)
    x = torch.randn(batch, 3, cfg['image'], cfg['image'])

    def fwd():
        with torch.no_grad():
            model.backbone(x)

    forward = timed(fwd, repeats, 1)
    return {'train': train, 'forward': forward}


def bench_knn(repeats, n_train=60000, n_test=10000, d=384, k=20, classes=10, temp=0.07):
    g = torch.Generator().manual_seed(0)
    train = torch.randn(n_train, d, generator=g)
    test = torch.randn(n_test, d, generator=g)
    y_train = torch.randint(0, classes, (n_train,), generator=g)
    rows = max(1, min(1024, (1 << 24) // n_train))

    def run():
        tr = F.normalize(train, dim=1).t().contiguous()
        preds = []
        for r0 in range(0, n_test, rows):
            q = F.normalize(test[r0:r0 + rows], dim=1)
            sims, idx = (q @ tr).topk(k, dim=1)
            w = ((sims - sims[:, :1]) / temp).exp()
            votes = torch.zeros(q.shape[0], classes).scatter_add_(1, y_train[idx], w)
            preds.append(votes.argmax(1))
        return torch.cat(preds)

    return timed(run, repeats, 1)


def histograms(sims, same, bins=100):
    edges = np.linspace(-1, 1, bins + 1)
    intra, _ = np.histogram(sims[same], edges)
    inter, _ = np.histogram(sims[~same], edges)
    intra = intra / max(intra.sum(), 1)
    inter = inter / max(inter.sum(), 1)
    return float(np.minimum(intra, inter).sum())


def bench_simdist(repeats, d=384):
    rng = np.random.default_rng(0)
    small = rng.standard_normal((1415, d), dtype=np.float32)
    small_y = rng.integers(0, 20, 1415)
    big = rng.standard_normal((100000, d), dtype=np.float32)
    big_y = rng.integers(0, 20, 100000)

    def all_pairs():
        x = torch.from_numpy(small)
        x = F.normalize(x, dim=1)
        s = (x @ x.t()).numpy()
        iu = np.triu_indices(x.shape[0], 1)
        return histograms(s[iu], small_y[iu[0]] == small_y[iu[1]])

    def sampled():
        x = F.normalize(torch.from_numpy(big), dim=1)
        r = np.random.default_rng(1)
        i = r.integers(0, x.shape[0], 10 ** 6)
        j = r.integers(0, x.shape[0] - 1, 10 ** 6)
        j = j + (j >= i)
        s = (x[torch.from_numpy(i)] * x[torch.from_numpy(j)]).sum(1).numpy()
        return histograms(s, big_y[i] == big_y[j])

    return {'allPairs': timed(all_pairs, repeats, 1), 'sampled': timed(sampled, repeats, 1)}


def bench_segment(repeats, n=1000, grid=30, d=384, size=480, threshold=0.3):
    g = torch.Generator().manual_seed(0)
    tokens = torch.randn(n, grid * grid, d, generator=g)
    c = (grid // 2) * grid + grid // 2

    def run():
        out = 0
        for i in range(n):
            t = F.normalize(tokens[i], dim=1)
            sim = (t @ t[c]).reshape(1, 1, grid, grid)
            up = F.interpolate(sim, size=(size, size), mode='bilinear', align_corners=False)
            out += int((up > threshold).sum())
        return out

    return timed(run, repeats, 1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--configs', default='tiny32,tiny64,small32,small64')
    ap.add_argument('--batch', type=int, default=32)
    ap.add_argument('--head-hidden', type=int, default=512)
    ap.add_argument('--repeats', type=int, default=5)
    ap.add_argument('--warmup', type=int, default=2)
    ap.add_argument('--only', default='train,knn,simdist,segment', help='comma list of train, knn, simdist, segment')
    ap.add_argument('--json', help='also write all results to this file')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    only = set(a.only.split(','))
    results = []

    def emit(r):
        results.append(r)
        print(json.dumps(r), flush=True)

    meta = {'torch': torch.__version__, 'numpy': np.__version__, 'threads': torch.get_num_threads(), 'python': platform.python_version()}
    print(json.dumps({'meta': meta}), flush=True)
    if 'train' in only:
        for name in a.configs.split(','):
            r = bench_train(name, a.batch, a.head_hidden, a.repeats, a.warmup)
            emit({'task': 'train', 'config': name, 'batch': a.batch, 'headHidden': a.head_hidden, 'seconds': r['train']})
            emit({'task': 'forward', 'config': name, 'batch': a.batch, 'seconds': r['forward']})
    if 'knn' in only:
        emit({'task': 'knn', 'config': '10k x 60k x 384, k 20', 'seconds': bench_knn(a.repeats)})
    if 'simdist' in only:
        r = bench_simdist(a.repeats)
        emit({'task': 'simdist', 'config': 'all pairs of 1,415 x 384', 'seconds': r['allPairs']})
        emit({'task': 'simdist', 'config': '1e6 sampled pairs of 100,000 x 384', 'seconds': r['sampled']})
    if 'segment' in only:
        emit({'task': 'segment', 'config': '1,000 images, 30x30 x 384 -> 480x480', 'seconds': bench_segment(a.repeats)})
    print(f"\nPyTorch {meta['torch']}, {meta['threads']} threads: median (min - max) seconds", file=sys.stderr)
    for r in results:
        s = r['seconds']
        print(f"  {r['task']:8} {r['config']:40} {s['median']:9.3f} ({s['min']:.3f} - {s['max']:.3f})  CPU {s['cpu']['median']:.3f}", file=sys.stderr)
    if a.json:
        with open(a.json, 'w') as f:
            json.dump({'meta': meta, 'results': results}, f, indent=1)


if __name__ == '__main__':
    main()
