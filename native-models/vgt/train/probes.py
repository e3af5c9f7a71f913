"""Geometry probes of a QueryAR generator: does it know where its context tokens are?

A falling teacher-forced loss says nothing about layout (background tokens carry a scene code the LM can copy), so
these four numbers are what training and the model card watch (TRAINING.md, "Probes"):

- attention by grid distance: the attention each position query pays to context latents at Chebyshev distance d
  from its own cell, relative to uniform (1.0), over all layers and heads; `attn_ratio` = d1 / mean(d >= 3);
- object-token loss against seen neighbours: the flow loss of object tokens (coverage >= 0.5) by how many of their 8
  neighbours are object tokens already in context; `obj_loss_ratio` = loss(>= 3 seen) / loss(0 seen);
- first-token P(object) per cell: the object share of the first sampled token at each of the 64 cells (CFG 1), its
  correlation with the data's per-cell rate (`cell_corr`);
- first-token P(object) per object count of the prompt, against the data (`count_model` / `count_data`);
- the decision given context: P(object) of head samples at object vs background cells in the second half of the
  order, teacher-forced (`p_object_late`): whether the LM and the flow head know where the objects are.
- colour and shape (probe sets with per-cell colours and shapes): of the head samples classified as object, the
  share whose colour (shape) -- a multinomial classifier on the probe set's object tokens -- is one the prompt names
  for the first token (`colour_first`, `shape_first`) and the cell's own object's with the second half of the order
  in context (`colour_late`, `shape_late`). The object/background probes cannot see a generator that draws objects
  in the wrong colour or shape. A single token holds only part of its object's outline, so the shape classifier is
  weaker than the colour one: `shape_clf_acc` (held-out object tokens) says how far to trust the shape probes.
- binding: on scenes of two objects of different shapes, the object tokens' loss with the shape-swapped caption over
  the loss with the true one (`binding_first`: tokens with no object neighbour seen yet; `binding_all`). 1.0: the
  generator reads the caption as a bag of words, so it cannot tell which colour takes which shape.
- relation: on position scenes, the same ratio with the relation flipped ("right of" for "left of";
  `relation_first`, `relation_all`). 1.0: the generator places the objects whatever the relation word says.

Object vs background for a sampled latent: a logistic-regression classifier fitted on the probe set's own latents.

    /usr/bin/python3 -m vgt.train.probes build --ae bundles/vgt-shapes --out runs/probe-set.pt   # once per AE
"""
import argparse

import numpy as np
import torch

from ..queryar import prepare_text_batch
from ..shapes import world
from ..shapes.grammar import COLOR_NAMES, SHAPES, flip_relation, parse_prompt, swap_shapes
from ..tokenizer import tokenizer_for
from ..vgtae import latent_layer_norm
from .common import shapes_batch

PROBE_SEED = 31337  # a render stream no training stage draws from


# ----------------------------------------------------------------------------- the probe set

def cell_coverage(objs, S, grid):
    """Fraction of each grid cell covered by objects: [grid * grid], row-major."""
    cov = np.zeros((S, S), np.float32)
    for o in objs:
        c, r0, c0 = world._coverage(o, S, 2)
        sub = cov[r0:r0 + c.shape[0], c0:c0 + c.shape[1]]
        np.maximum(sub, c, out=sub)
    s = S // grid
    return cov.reshape(grid, s, grid, s).mean(axis=(1, 3)).reshape(-1)


# attribute -> (object key, class names): what the colour and shape probes classify
ATTRIBUTES = {"colour": ("color", COLOR_NAMES), "shape": ("shape", SHAPES)}


def cell_labels(objs, S, grid, attribute="colour"):
    """Class index (ATTRIBUTES) of the object covering most of each cell, -1 where none does: [grid * grid]."""
    if not objs:
        return np.full(grid * grid, -1, np.int64)
    key, names = ATTRIBUTES[attribute]
    cov = np.stack([cell_coverage([o], S, grid) for o in objs])
    label = np.array([names.index(o[key]) for o in objs])[cov.argmax(0)]
    return np.where(cov.max(0) > 0, label, -1)


@torch.no_grad()
def build_probe_set(ae, cfg, n=1024, batch=64):
    """Held-out scenes (train=False) encoded by `ae`: z, captions, coverage, colour and shape per cell [n, cells],
    object counts."""
    S, grid = cfg.ae.image_size, cfg.ae.latent_grid
    zs, caps, covs, counts = [], [], [], []
    labels = {a: [] for a in ATTRIBUTES}
    for b in range(0, n, batch):
        vb = shapes_batch(PROBE_SEED, b // batch, min(batch, n - b), S, stream=3, train=False)
        zs.append(ae.encode(vb["images"]).half())
        caps += vb["captions"]
        covs += [cell_coverage(o, S, grid) for o in vb["objects"]]
        for a, v in labels.items():
            v += [cell_labels(o, S, grid, a) for o in vb["objects"]]
        counts += [len(o) for o in vb["objects"]]
    return {"z": torch.cat(zs), "captions": caps, "coverage": torch.from_numpy(np.stack(covs)),
            **{f"cell_{a}": torch.from_numpy(np.stack(v)) for a, v in labels.items()},
            "n_objects": torch.tensor(counts)}


def fit_linear(x, y, classes=None, steps=200, l2=0.0):
    """Logistic regression by L-BFGS, the one fit every probe classifier uses: y float [n] (binary; w [d]), long [n]
    (`classes`-way softmax; w [d, classes]) or float [n, C] (multi-label; w [d, C]). Returns (w, b)."""
    multiclass = y.dtype == torch.long
    out = (classes,) if multiclass else y.shape[1:]
    w = torch.zeros(x.shape[1], *out, requires_grad=True)
    b = torch.zeros(*(out or (1,)), requires_grad=True)
    opt = torch.optim.LBFGS([w, b], max_iter=steps, line_search_fn="strong_wolfe")
    fn = torch.nn.functional.cross_entropy if multiclass else torch.nn.functional.binary_cross_entropy_with_logits

    def closure():
        opt.zero_grad()
        loss = fn(x @ w + b, y) + l2 * (w ** 2).sum()
        loss.backward()
        return loss

    with torch.enable_grad():  # callers may run under no_grad (recon_eval, the probes)
        opt.step(closure)
    return w.detach(), b.detach()


def fit_object_classifier(z, coverage, steps=200):
    """Logistic regression latent [d_z] -> coverage >= 0.5 on the probe set: (w, b, training accuracy)."""
    x = z.float().flatten(2).transpose(1, 2).reshape(-1, z.shape[1])
    y = (coverage.reshape(-1) >= 0.5).float()
    w, b = fit_linear(x, y, steps=steps)
    acc = float(((x @ w + b > 0).float() == y).float().mean())
    return w, b, acc


def scene_code_probe(z, coverage, colours, far=3, steps=200):
    """Does an AE put a scene code into background tokens? Logistic regression (fitted on 3/4 of the scenes, scored on
    the rest) from the mean latent of the background tokens at Chebyshev distance >= `far` from every object cell to
    which colours the scene holds (multi-hot). Local latents score the majority baseline; a scene code beats it.
    z [n, d_z, g, g], coverage [n, g*g], colours [n, C] (0/1). Returns accuracy, baseline and the scenes used."""
    n, d, g, _ = z.shape
    cells = torch.arange(g * g)
    r, c = torch.div(cells, g, rounding_mode="floor"), cells % g
    dist = torch.maximum((r[:, None] - r[None]).abs(), (c[:, None] - c[None]).abs())  # [cells, cells]
    covered = coverage > 0
    near = (covered[:, None, :] & (dist[None] < far)).any(-1)  # [n, cells]: within `far` of an object cell
    keep = (~near).any(-1) & covered.any(-1)
    m = (~near[keep]).float().unsqueeze(1)
    x = (z[keep].float().flatten(2) * m).sum(-1) / m.sum(-1)
    y = colours[keep].float()
    split = int(len(x) * 0.75)
    if split < 4 or split == len(x):
        return {"acc": None, "baseline": None, "scenes": int(len(x)), "far": far}
    w, b = fit_linear(x[:split], y[:split], steps=steps, l2=1e-3)
    acc = float(((x[split:] @ w + b > 0).float() == y[split:]).float().mean())
    rate = y[:split].mean(0)
    base = float(((rate > 0.5).float()[None] == y[split:]).float().mean())
    return {"acc": acc, "baseline": base, "scenes": int(len(x)), "far": far}


def fit_attribute_classifier(z, coverage, cell_label, attribute="colour", steps=200):
    """Multinomial logistic regression latent [d_z] -> colour (or shape) of the covering object, on object tokens
    (coverage >= 0.5) of the probe set, fitted on the first 3/4 of the scenes: (W [d_z, classes], b, accuracy on the
    object tokens of the other 1/4)."""
    n = z.shape[0]
    x = latent_layer_norm(z.float().flatten(2).transpose(1, 2)).reshape(n, -1, z.shape[1])
    keep = (coverage >= 0.5) & (cell_label >= 0)
    split = max(1, n * 3 // 4)
    w, b = fit_linear(x[:split][keep[:split]], cell_label[:split][keep[:split]], len(ATTRIBUTES[attribute][1]),
                      steps=steps)
    xs, ys = x[split:][keep[split:]], cell_label[split:][keep[split:]]
    acc = float(((xs @ w + b).argmax(-1) == ys).float().mean()) if len(ys) else None
    return w, b, acc


# ----------------------------------------------------------------------------- probes

def _grid_dist(cells_a, cells_b, w):
    ra, ca = cells_a // w, cells_a % w
    rb, cb = cells_b // w, cells_b % w
    return torch.maximum((ra[:, None] - rb[None, :]).abs(), (ca[:, None] - cb[None, :]).abs())


@torch.no_grad()
def attention_by_distance(model, tok, z, caps, order):
    """Mean attention of position queries to context latents at each Chebyshev distance, relative to uniform."""
    h = w = z.shape[-1]
    N = h * w
    attns = model.lm.record_attention(True)
    try:
        ids, mask = prepare_text_batch(tok, caps)
        model.query_cond(ids, mask, z.float(), tok.img_token_ids(), order)
    finally:
        model.lm.record_attention(False)
    T0 = ids.shape[1] + len(tok.img_token_ids())
    qi = T0 + 2 * torch.arange(N)  # query of the i-th cell in order
    zi = T0 + 2 * torch.arange(N) + 1  # its latent
    dist = _grid_dist(order, order, w)  # [N, N]: query i vs latent j
    seen = torch.arange(N)[None, :] < torch.arange(N)[:, None]  # latent j is context for query i
    sums, cnts = torch.zeros(2 * w), torch.zeros(2 * w)
    for a in attns:  # [B, heads, S, T]
        p = a[:, :, qi][:, :, :, zi].float()  # [B, heads, N, N]
        p = p * seen
        tot = p.sum(-1, keepdim=True)
        n_ctx = seen.sum(-1).clamp(min=1)
        rel = torch.where(tot > 0, p / tot.clamp(min=1e-12), p) * n_ctx[:, None].float()  # 1.0 = uniform
        rel = rel.mean((0, 1))  # [N, N]
        for d in range(1, w):
            m = seen & (dist == d) & (torch.arange(N)[:, None] > 0)
            sums[d] += rel[m].sum()
            cnts[d] += m.sum()
    by_d = (sums / cnts.clamp(min=1))[1:w]
    far = by_d[2:].mean()
    return {"attn_by_distance": [round(float(v), 3) for v in by_d], "attn_ratio": round(float(by_d[0] / far), 3)}


def _token_loss(model, tok, z, caps, order, ts=(0.2, 0.5, 0.8), seed=0):
    """Teacher-forced flow loss per token [B, N] (generation order) at fixed t's and noise (a seed), and the
    conditions [B * N, H]."""
    g = torch.Generator().manual_seed(seed)
    B, dz, h, w = z.shape
    N = h * w
    ids, mask = prepare_text_batch(tok, caps)
    cond = model.query_cond(ids, mask, z.float(), tok.img_token_ids(), order).reshape(B * N, -1)
    target = z.float().flatten(2).transpose(1, 2)[:, order].reshape(B * N, dz)
    loss = torch.zeros(B * N)
    for t in ts:
        eps = torch.randn(B * N, dz, generator=g)
        v = model.head_velocity(t * target + (1 - t) * eps, torch.full((B * N,), t), cond)
        loss += ((v - (target - eps)) ** 2).mean(1) / len(ts)
    return loss.reshape(B, N), cond


def _seen_object_neighbours(coverage, order, w):
    """[B, N] in generation order: is the token an object token, and how many of its grid neighbours are object
    tokens already seen."""
    N = len(order)
    obj = coverage[:, order] >= 0.5
    near = _grid_dist(order, order, w) == 1
    seen = torch.arange(N)[None, :] < torch.arange(N)[:, None]
    return obj, ((near & seen)[None].float() @ obj.float().unsqueeze(-1)).squeeze(-1)


@torch.no_grad()
def object_loss_by_neighbours(model, tok, z, caps, coverage, order, ts=(0.2, 0.5, 0.8), seed=0):
    """Flow loss of object tokens by the number of already-seen neighbouring object tokens (0, 1, 2, >= 3)."""
    B, dz, h, w = z.shape
    loss, cond = _token_loss(model, tok, z, caps, order, ts, seed)
    obj, n_seen = _seen_object_neighbours(coverage, order, w)
    out = {}
    for name, sel in (("0", n_seen == 0), ("1", n_seen == 1), ("2", n_seen == 2), (">=3", n_seen >= 3)):
        m = obj & sel
        out[name] = (round(float(loss[m].mean()), 4) if m.any() else None, int(m.sum()))
    ratio = out[">=3"][0] / out["0"][0] if out[">=3"][0] and out["0"][0] else None
    return {"obj_loss_by_seen": out, "obj_loss_ratio": round(ratio, 3) if ratio else None,
            "_cond": cond.reshape(B, h * w, -1), "_obj": obj}


def _caption_contrast(model, tok, z, caps, coverage, order, altered, name, ts, seed):
    """The object tokens' flow loss with altered captions over the loss with the true ones (same noise, t and
    context), on the scenes whose caption has an alteration (`altered[i]` not None): `{name}_first` on object
    tokens with no neighbouring object token seen yet, `{name}_all` on every object token."""
    keep = torch.tensor([a is not None for a in altered])
    if not keep.any():
        return {f"{name}_first": None, f"{name}_all": None, f"{name}_scenes": 0}
    z, coverage = z[keep], coverage[keep]
    loss_true, _ = _token_loss(model, tok, z, [c for c, k in zip(caps, keep.tolist()) if k], order, ts, seed)
    loss_alt, _ = _token_loss(model, tok, z, [a for a in altered if a is not None], order, ts, seed)
    obj, n_seen = _seen_object_neighbours(coverage, order, z.shape[-1])
    out = {f"{name}_scenes": int(keep.sum())}
    for key, m in ((f"{name}_first", obj & (n_seen == 0)), (f"{name}_all", obj)):
        out[key] = round(float(loss_alt[m].mean() / loss_true[m].mean()), 3) if m.any() else None
    return out


@torch.no_grad()
def binding_loss_ratio(model, tok, z, caps, coverage, order, ts=(0.2, 0.5, 0.8), seed=0):
    """Does the generator read which shape the caption gives which colour? On the scenes of two objects of different
    shapes: the object tokens' flow loss with the shape-swapped caption (`grammar.swap_shapes`: "a red circle and a
    blue square" for "a red square and a blue circle") over the loss with the true one, same noise, t and context.
    1.0: the caption is a bag of words. `binding_first` is on object tokens with no neighbouring object token seen
    yet (where the caption, not the context, has to say the shape), `binding_all` on every object token."""
    return _caption_contrast(model, tok, z, caps, coverage, order, [swap_shapes(c) for c in caps], "binding", ts,
                             seed)


@torch.no_grad()
def relation_loss_ratio(model, tok, z, caps, coverage, order, ts=(0.2, 0.5, 0.8), seed=0):
    """Does the generator read the relation word? On the position scenes: the object tokens' loss with the relation
    flipped (`grammar.flip_relation`: "right of" for "left of") over the loss with the true caption. 1.0: it places
    the two objects whatever the relation says; `relation_first` (object tokens with no object neighbour seen yet)
    is where an object is placed."""
    return _caption_contrast(model, tok, z, caps, coverage, order, [flip_relation(c) for c in caps], "relation", ts,
                             seed)


@torch.no_grad()
def decision_given_context(model, cond, obj, clf, n=256, seed=0, attributes=None):
    """Does the generator know, with the second half of the order in context, which cells are object? P(object) of
    head samples (CFG 1) at object vs background cells; equal rates mean the decision ignores the condition.
    attributes: {name: (classifier, the cells' labels [B, N] in generation order)}; for each, `<name>_late`, the share
    of object-classified samples at object cells whose colour (shape) is the cell's own: does it agree with the
    object's tokens in context?"""
    B, N, _ = cond.shape
    late = torch.zeros(B, N, dtype=torch.bool)
    late[:, N // 2:] = True
    out, res = {}, {}
    for name, sel in (("object", obj & late), ("background", ~obj & late)):
        rows = cond[sel][:n]
        x = latent_layer_norm(head_sample(model, rows, seed=seed))
        is_obj = (x @ clf[0] + clf[1]) > 0
        out[name] = round(float(is_obj.float().mean()), 3)
        if name == "object" and is_obj.any():
            for a, (aclf, labels) in (attributes or {}).items():
                right = (x @ aclf[0] + aclf[1]).argmax(-1) == labels[sel][:n]
                res[f"{a}_late"] = round(float(right[is_obj].float().mean()), 3)
    return {"p_object_late": out, **res}


def head_sample(model, cond, steps=20, seed=0):
    """One flow-head sample per condition row at CFG 1 (the sampler's Euler-Maruyama SDE and last step)."""
    from ..sampler import LAST_STEP, sde_timesteps
    g = torch.Generator().manual_seed(seed)
    ts = sde_timesteps(steps)
    x = torch.randn(cond.shape[0], model.c.d_z, generator=g)
    for i in range(steps - 1):
        t, dt = ts[i], ts[i + 1] - ts[i]
        v = model.head_velocity(x, torch.full((x.shape[0],), float(t)), cond)
        x = x + ((1 + t) * v - x) * dt + torch.sqrt(2 * (1 - t)) * torch.sqrt(dt) * torch.randn(x.shape, generator=g)
    return x + LAST_STEP * model.head_velocity(x, torch.full((x.shape[0],), float(ts[-1])), cond)


@torch.no_grad()
def first_token_object_rate(model, tok, prompts, clf, samples=4, seed=0, aclfs=None):
    """P(object) of the first sampled token at every cell, per prompt: [len(prompts), cells], and for each attribute
    classifier of aclfs ({name: (W, b)}), per prompt, the class indices of the object-classified samples."""
    N = model.c.grid[0] * model.c.grid[1]
    wv, bv = clf
    aclfs = aclfs or {}
    rates, labels = [], {a: [] for a in aclfs}
    for i, p in enumerate(prompts):
        ids, mask = prepare_text_batch(tok, [p])
        hits = torch.zeros(N)
        cond = _first_conds(model, tok, ids, mask, N)
        seen = {a: [] for a in aclfs}
        for s in range(samples):
            x = latent_layer_norm(head_sample(model, cond, seed=seed * 1000 + i * samples + s))
            is_obj = (x @ wv + bv) > 0
            hits += is_obj.float()
            for a, (w, b) in aclfs.items():
                seen[a].append((x[is_obj] @ w + b).argmax(-1))
        rates.append(hits / samples)
        for a in aclfs:
            labels[a].append(torch.cat(seen[a]))
    return torch.stack(rates), labels


def _first_conds(model, tok, ids, mask, N):
    """The flow head's condition for the first token at each cell: prefill [text | <img> | q_cell], [N, C]."""
    from ..queryar import image_position_ids, text_position_ids
    H = model.c.lm.hidden
    img = torch.tensor(tok.img_token_ids()).unsqueeze(0)
    text = model.embed_tokens(torch.cat([ids, img], 1)).expand(N, -1, -1)
    q = model.adaptive_metaquery.queries(*model.c.grid).unsqueeze(1)  # [N, 1, H]
    x = torch.cat([text, q], 1)
    m = torch.cat([mask, torch.ones(1, img.shape[1] + 1, dtype=torch.long)], 1).expand(N, -1)
    text_pos = text_position_ids(m[:, :-1], model.c.image_positions)
    n_before = m[:, :-1].sum(1)
    qpos = torch.cat([image_position_ids(n_before[i:i + 1], torch.tensor([i]), torch.tensor([0]),
                                         model.c.image_positions, model.c.grid[1]) for i in range(N)])
    hidden, _ = model.lm(x, m, torch.cat([text_pos, qpos], 1))
    assert hidden.shape[-1] == H
    return model.head_cond(hidden[:, -1])


@torch.no_grad()
def run_probes(model, probe_set, n_attn=32, n_loss=192, n_prompts=24, seed=0):
    """All four probes on a probe set (see the module docstring); a flat dict for logs and the model card."""
    tok = tokenizer_for(model.c)
    model = model.eval()
    ps = probe_set
    z, caps, cov = ps["z"], ps["captions"], ps["coverage"].float()
    N = z.shape[-1] * z.shape[-2]
    g = torch.Generator().manual_seed(seed)
    order = torch.randperm(N, generator=g)
    out = {}
    out.update(attention_by_distance(model, tok, z[:n_attn], caps[:n_attn], order))
    loss = object_loss_by_neighbours(model, tok, z[:n_loss], caps[:n_loss], cov[:n_loss], order, seed=seed)
    cond, obj = loss.pop("_cond"), loss.pop("_obj")
    out.update(loss)
    out.update(binding_loss_ratio(model, tok, z[:n_loss], caps[:n_loss], cov[:n_loss], order, seed=seed))
    out.update(relation_loss_ratio(model, tok, z[:n_loss], caps[:n_loss], cov[:n_loss], order, seed=seed))
    clf = ps.get("classifier") or fit_object_classifier(z, cov)[:2]
    # attribute probes need the probe set's per-cell labels (older probe sets lack shape, or both: skipped)
    aclfs = {}
    for a in ATTRIBUTES:
        if f"cell_{a}" in ps:
            w, b, acc = fit_attribute_classifier(z, cov, ps[f"cell_{a}"], a)
            aclfs[a] = (w, b)
            out[f"{a}_clf_acc"] = round(acc, 3) if acc is not None else None
    attrs = {a: (c, ps[f"cell_{a}"][:n_loss][:, order]) for a, c in aclfs.items()}
    out.update(decision_given_context(model, cond, obj, clf, seed=seed, attributes=attrs))
    prompts = caps[-n_prompts:]
    rates, first_labels = first_token_object_rate(model, tok, prompts, clf, seed=seed, aclfs=aclfs)
    for a, labels in first_labels.items():
        out.update(first_token_match(prompts, labels, a))
    data_cell = (cov >= 0.5).float().mean(0)
    model_cell = rates.mean(0)
    out["cell_corr"] = round(float(torch.corrcoef(torch.stack([model_cell, data_cell]))[0, 1]), 3)
    out["p_object_first"] = round(float(model_cell.mean()), 3)
    counts = torch.tensor([_count(p) for p in prompts])
    data_counts = torch.tensor([_count(p) for p in caps])
    obj_share = (cov >= 0.5).float().mean(1)
    out["count_model"], out["count_data"] = {}, {}
    for n in sorted(set(counts.tolist())):
        out["count_model"][n] = round(float(rates[counts == n].mean()), 3)
        out["count_data"][n] = round(float(obj_share[data_counts == n].mean()), 3)
    return out


def first_token_match(prompts, labels, attribute="colour"):
    """`<attribute>_first`: of the first tokens classified as object, the share whose colour (shape) the prompt
    names (prompts that drew an object); chance is about 1/6 for one colour, 1/3 for one shape."""
    key, names = ATTRIBUTES[attribute]
    col = 0 if key == "color" else 1
    right, total = 0, 0
    for p, c in zip(prompts, labels):
        if c is None or not len(c):
            continue
        named = {names.index(o[col]) for o in parse_prompt(p)["objects"]}
        right += sum(int(v) in named for v in c.tolist())
        total += len(c)
    return {f"{attribute}_first": round(right / total, 3) if total else None, f"{attribute}_first_n": total}


def _count(prompt):
    parsed = parse_prompt(prompt)
    return parsed.get("count") or len(parsed["objects"])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="encode the probe scenes with an AE and fit the object classifier")
    b.add_argument("--ae", required=True, help="AE checkpoint or bundle folder")
    b.add_argument("--out", required=True)
    b.add_argument("--n", type=int, default=1024)
    b.add_argument("--latent-group", type=int, default=1, help="for generators trained with --latent-group G")
    args = p.parse_args(argv)
    from .encode_latents import load_ae
    from .evaluate import with_latent_group
    ae, cfg = load_ae(args.ae)
    ae = with_latent_group(ae, args.latent_group)
    cfg.ae = ae.c
    ps = build_probe_set(ae, cfg, args.n)
    w, bias, acc = fit_object_classifier(ps["z"], ps["coverage"])
    ps["classifier"] = (w, bias)
    torch.save(ps, args.out)
    print(f"{args.n} scenes, object classifier accuracy {acc:.3f}, object token share "
          f"{float((ps['coverage'] >= 0.5).float().mean()):.3f} -> {args.out}")


if __name__ == "__main__":
    main()
