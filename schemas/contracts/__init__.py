"""Source contracts: what each stream of each connected system sends, checked per record at bronze ingest.

A contract (schemas/contracts/<system>/<stream>/v<N>.toml) lists every field path with its JSON type,
whether it is required, what it means, whether it is personal data and how its text is formatted.
Bronze calls, per landed record: `protect` (PII out before anything is stored), `shape`/`fingerprint`
(recorded beside the payload) and `check` (additive drift flows on; breaking drift and bad values go to
the quarantine). Approving a drift is `evolve` + `ContractStore.write_next`; `compare` tells whether
one version accepts everything the previous one did.
"""

from schemas.contracts._check import check
from schemas.contracts._evolve import compare, evolve
from schemas.contracts._model import Check, Compatibility, Contract, ContractError, FieldSpec, Finding
from schemas.contracts._pii import PiiKeyError, pii_key, protect, protect_text, token
from schemas.contracts._shape import fingerprint, shape
from schemas.contracts._store import SHIPPED, ContractStore

__all__ = [
    "SHIPPED",
    "Check",
    "Compatibility",
    "Contract",
    "ContractError",
    "ContractStore",
    "FieldSpec",
    "Finding",
    "PiiKeyError",
    "check",
    "compare",
    "evolve",
    "fingerprint",
    "pii_key",
    "protect",
    "protect_text",
    "shape",
    "token",
]
