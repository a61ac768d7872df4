"""Neural Turing Machine: a controller with read and write heads on a memory (Graves et al. 2014).

At every time step t the controller sees the input x_t and the previous read vectors r_{t−1};
its output is cut into head parameters (k, β, g, s, γ per head, plus e and a per write head),
which are bounded by activations to the ranges of Graves et al. (2014, §3.1–3.3), as Collier &
Beel (2018) choose them: key and add by tanh, β by softplus, g and e by sigmoid, s by a softmax
over the shifts, γ = 1 + softplus. Every head addresses the memory M_{t−1} with the pipeline
of `memlib.models.addressing`, read heads read from it, write heads erase-then-add into it, and
the output logits are computed from the controller state and the fresh read vectors.

Stability choices (Collier & Beel 2018): the memory starts every episode at the constant 1e-6
(never zero: cosine similarity of a zero row is 0/0), initial read vectors and weightings are
learned biases, and the controller outputs that parametrise the heads and the output logits are
clipped to ±20 (this bounds β, γ and the exponentials).

Slip (training only, ``slip=η``, off by default): before addressing, a fraction η of every
head's previous weighting slips one slot forward or back (`addressing.slip`, a random direction
per head and sequence at every step), like a tape head that does not hold still by itself. A head
then has to keep its place actively, by sharpening (γ) or by a content jump. Without it, a copier
trained on lengths 1–20 can park its read head loosely: the weight leaks a little each step, too
little to matter in 20 steps, enough to lose the place in 40 (notebook 03, §6.1).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import torch
import torch.nn as nn
import torch.nn.functional as F

from memlib.models import addressing as A

MEMORY_INIT = 1e-6  # Collier & Beel: small constant contents converge fastest; 0 would give 0/0


@dataclass
class NTMTrace:
    """What happened at every time step (batch B, steps T, heads H = read then write heads).

    Weightings are (B, T, H, N): ``w_c`` content, ``w_g`` interpolated, ``w_tilde`` shifted,
    ``w`` sharpened (final). Head parameters: ``k`` (B, T, H, M), ``beta``/``g``/``gamma``
    (B, T, H), ``s`` (B, T, H, 2R+1). Write heads: ``e``, ``a`` (B, T, W, M). Reads ``r``
    (B, T, R, M). ``memory`` (B, T+1, N, M): the initial memory, then the memory after each step.
    """

    w_c: torch.Tensor
    w_g: torch.Tensor
    w_tilde: torch.Tensor
    w: torch.Tensor
    k: torch.Tensor
    beta: torch.Tensor
    g: torch.Tensor
    s: torch.Tensor
    gamma: torch.Tensor
    e: torch.Tensor
    a: torch.Tensor
    r: torch.Tensor
    memory: torch.Tensor
    read_heads: int = 1

    @property
    def read_w(self) -> torch.Tensor:
        """Read weightings (B, T, R, N)."""
        return self.w[:, :, : self.read_heads]

    @property
    def write_w(self) -> torch.Tensor:
        """Write weightings (B, T, W, N)."""
        return self.w[:, :, self.read_heads :]

    def item(self, b: int = 0) -> NTMTrace:
        """The trace of batch element `b` only (batch axis kept, of size 1)."""
        kw = {f.name: getattr(self, f.name) for f in fields(self)}
        return NTMTrace(**{k: (v[b : b + 1] if torch.is_tensor(v) else v) for k, v in kw.items()})


class NTM(nn.Module):
    """An NTM with an LSTM or feed-forward controller, R read and W write heads, N×M memory."""

    def __init__(self, input_size: int, output_size: int, *, controller: str = "lstm",
                 controller_size: int = 100, N: int = 128, M: int = 20, read_heads: int = 1,
                 write_heads: int = 1, shift_range: int = 1, clip: float = 20.0,
                 focus: float = 10.0, slip: float = 0.0):
        super().__init__()
        if controller not in ("lstm", "ff"):
            raise ValueError(f"controller must be 'lstm' or 'ff', got {controller!r}")
        if read_heads < 1 or write_heads < 1:
            raise ValueError("an NTM needs at least one read and one write head")
        if shift_range < 0 or 2 * shift_range + 1 > N:
            raise ValueError(f"shift_range must satisfy 0 <= R and 2R+1 <= N={N}")
        if not 0 <= slip < 1:
            raise ValueError(f"slip must be in [0, 1), got {slip}")
        self.config = dict(input_size=input_size, output_size=output_size, controller=controller,
                           controller_size=controller_size, N=N, M=M, read_heads=read_heads,
                           write_heads=write_heads, shift_range=shift_range, clip=clip,
                           focus=focus, slip=slip)
        self.N, self.M, self.R, self.W = N, M, read_heads, write_heads
        self.H, self.K, self.clip = read_heads + write_heads, 2 * shift_range + 1, clip
        self.kind, self.slip = controller, slip
        ctrl_in = input_size + read_heads * M
        if controller == "lstm":
            self.controller = nn.LSTMCell(ctrl_in, controller_size)
            self.h0 = nn.Parameter(torch.zeros(controller_size))  # learned initial state
            self.c0 = nn.Parameter(torch.zeros(controller_size))
        else:
            self.controller = nn.Linear(ctrl_in, controller_size)
        # per head: k (M), β, g, s (K), γ; per write head: e (M), a (M)
        self.head_sizes = [M, 1, 1, self.K, 1]
        self.heads = nn.Linear(controller_size, self.H * sum(self.head_sizes) + self.W * 2 * M)
        self.out = nn.Linear(controller_size + read_heads * M, output_size)
        self.register_buffer("M0", torch.full((N, M), MEMORY_INIT))  # same every episode
        self.r0 = nn.Parameter(torch.randn(read_heads, M) * 0.1)  # → tanh: initial reads
        # initial weightings: softmax of a learned bias that starts focused on slot 0, like a tape
        # head at the start of the tape (a near-uniform start leaves every slot alike)
        w0 = torch.randn(self.H, N) * 0.1
        w0[:, 0] += focus
        self.w0 = nn.Parameter(w0)

    def initial_state(self, B: int):
        """(controller state, r0 (B, R, M), w0 (B, H, N), M0 (B, N, M)) at the start of an episode."""
        if self.kind == "lstm":
            ctrl = (self.h0.expand(B, -1), self.c0.expand(B, -1))
        else:
            ctrl = None
        r = torch.tanh(self.r0).expand(B, -1, -1)
        w = F.softmax(self.w0, dim=-1).expand(B, -1, -1)
        return ctrl, r, w, self.M0.expand(B, -1, -1)

    def head_parameters(self, h: torch.Tensor) -> dict:
        """Cut the (clipped) controller output into bounded head parameters."""
        B, H, W, M = h.shape[0], self.H, self.W, self.M
        o = self.heads(h).clamp(-self.clip, self.clip)
        per_head, per_write = o.split([H * sum(self.head_sizes), W * 2 * M], dim=-1)
        k, beta, g, s, gamma = per_head.view(B, H, -1).split(self.head_sizes, dim=-1)
        e, a = per_write.view(B, W, 2 * M).split([M, M], dim=-1)
        return dict(
            k=torch.tanh(k),  # (B, H, M)
            beta=F.softplus(beta.squeeze(-1)),  # (B, H) > 0
            g=torch.sigmoid(g.squeeze(-1)),  # (B, H) in (0, 1)
            s=F.softmax(s, dim=-1),  # (B, H, K) distribution over shifts −R..R
            gamma=1 + F.softplus(gamma.squeeze(-1)),  # (B, H) ≥ 1
            e=torch.sigmoid(e),  # (B, W, M) in (0, 1)
            a=torch.tanh(a),  # (B, W, M)
        )

    def forward(self, x: torch.Tensor, trace: bool = False):
        """x: (B, T, input_size) → logits (B, T, output_size), and an `NTMTrace` if `trace`."""
        if x.dim() != 3 or x.shape[-1] != self.config["input_size"]:
            raise ValueError(f"x must have shape (batch, time, {self.config['input_size']}), "
                             f"got {tuple(x.shape)}")
        B, T, _ = x.shape
        ctrl, r, w, Mem = self.initial_state(B)
        logits, steps = [], []
        if trace:
            memories = [Mem]
        for t in range(T):
            inp = torch.cat([x[:, t], r.reshape(B, -1)], dim=-1)
            if self.kind == "lstm":
                ctrl = self.controller(inp, ctrl)
                h = ctrl[0]  # (B, controller_size)
            else:
                h = torch.tanh(self.controller(inp))
            p = self.head_parameters(h)
            if self.training and self.slip > 0:  # w_{t−1} slips one slot, forward or back
                w = A.slip(w, self.slip, torch.randint(0, 2, (B, self.H), device=x.device) * 2 - 1)
            stages = A.address(p["k"], p["beta"], p["g"], p["s"], p["gamma"], Mem, w,
                               stages=trace)
            w = stages[-1] if trace else stages  # (B, H, N)
            r = A.read(w[:, : self.R], Mem)  # (B, R, M): read heads read M_{t-1}
            Mem = A.write(Mem, w[:, self.R :], p["e"], p["a"])  # (B, N, M)
            logits.append(self.out(torch.cat([h, r.reshape(B, -1)], dim=-1)))
            if trace:
                steps.append((*stages, p, r))
                memories.append(Mem)
        y = torch.stack(logits, dim=1).clamp(-self.clip, self.clip)  # (B, T, output_size)
        if not trace:
            return y, None
        st = lambda i: torch.stack([s[i] for s in steps], dim=1).detach()  # noqa: E731
        pp = lambda k: torch.stack([s[4][k] for s in steps], dim=1).detach()  # noqa: E731
        tr = NTMTrace(w_c=st(0), w_g=st(1), w_tilde=st(2), w=st(3), k=pp("k"), beta=pp("beta"),
                      g=pp("g"), s=pp("s"), gamma=pp("gamma"), e=pp("e"), a=pp("a"), r=st(5),
                      memory=torch.stack(memories, dim=1).detach(), read_heads=self.R)
        return y, tr

