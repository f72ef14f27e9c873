"""The torch module of :class:`~sklearn_hser.text_models.FineTunedTextClassifier`.

Kept in its own module, imported only when torch is needed, so that the
fitted estimator pickles (the class must be importable by name).
"""

from __future__ import annotations

import torch


class MeanPoolHead(torch.nn.Module):
    """Encoder -> mean of the token states (padding excluded) -> linear layer.

    Parameters
    ----------
    encoder : torch.nn.Module
        A Hugging Face encoder whose output has ``last_hidden_state`` and
        whose ``config`` has ``hidden_size``.
    n_classes : int
        Outputs of the linear layer.
    """

    def __init__(self, encoder, n_classes: int):
        super().__init__()
        self.encoder = encoder
        self.head = torch.nn.Linear(encoder.config.hidden_size, n_classes)

    def forward(self, input_ids, attention_mask, **kwargs):
        hidden = self.encoder(
            input_ids=input_ids, attention_mask=attention_mask, **kwargs
        ).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        return self.head(pooled)
