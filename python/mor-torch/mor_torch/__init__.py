# mor_torch: MoR (Mixture of Ranks) adapters in PyTorch, exact to docs/mor-spec.md and reading/writing the adapter
# format of docs/adapter-format.md, so adapters move between PyTorch (DDP/FSDP training) and mor-js unchanged.
from .adapter_io import AdapterFiles, adapter_tensors, load_adapter, read_adapter, save_adapter
from .config import ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE, MOR_FORMAT_VERSION, MoRConfig
from .errors import AdapterFormatError, FileWriteError, MoRFormatError, SafetensorsError
from .export import export_peft_lora, merge_static
from .inject import inject_mor, mor_aux_loss, mor_layers, mor_parameters, set_static_gate, unwrap_model
from .layer import MoRLinear
from .routing import load_balance_loss, resolve_gate, route
from .safetensors_io import read_safetensors, serialize_safetensors

__version__ = "0.1.0"
