class GroupNormSilu(Module):
  __parameters__ = []
  __buffers__ = []
  training : bool
  _is_full_backward_hook : Optional[bool]
  def forward(self: __torch__.GroupNormSilu,
    x: Tensor,
    w: Tensor,
    b: Tensor,
    g: Tensor,
    eps: Tensor,
    silu: Tensor) -> Tensor:
    y = torch.group_norm(x, int(g), w, b, float(eps), True)
    if bool(silu):
      out = torch.silu(y)
    else:
      out = y
    return out
