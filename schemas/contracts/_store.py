"""Where contracts live: v1 (and any later version) ships with the package; versions approved by an
operator are written into the warehouse (`<root>/_contracts/<system>/<stream>/v<N>.toml`), because in
production the package is read-only. The highest version from either place is the one in force."""

from __future__ import annotations

import re
from pathlib import Path

from pyarrow import fs as pafs

from connectors.landing import write_atomically
from schemas.contracts._model import Contract, ContractError

SHIPPED = Path(__file__).resolve().parent
_VERSION_FILE = re.compile(r"^v(\d+)\.toml$")


class ContractStore:
    def __init__(self, shipped: Path = SHIPPED, approved: tuple[pafs.FileSystem, str] | None = None) -> None:
        self.shipped = Path(shipped)
        self.approved = approved
        self._loaded: dict[tuple[str, str, int], Contract] = {}

    def latest(self, system: str, stream: str) -> Contract:
        versions = self._versions(system, stream)
        if not versions:
            raise ContractError(
                f"no contract for {system}/{stream}: add {self.shipped / system / stream / 'v1.toml'} (draft it with "
                f"`python -m schemas.contracts.infer <warehouse>/landing --system {system} --stream {stream}`)"
            )
        return self.get(system, stream, max(versions))

    def get(self, system: str, stream: str, version: int) -> Contract:
        key = (system, stream, version)
        if key not in self._loaded:
            self._loaded[key] = self._read(system, stream, version)
        return self._loaded[key]

    def write_next(self, contract: Contract) -> Contract:
        """Write `contract` as the version after the one in force (an evolved contract already carries
        that number); refuses one evolved from a version that is no longer the latest."""
        if self.approved is None:
            raise ContractError(
                f"{contract.system}/{contract.stream}: this ContractStore has no warehouse to write approved "
                "contracts to; create it with approved=(filesystem, warehouse root)"
            )
        current = self.latest(contract.system, contract.stream)
        if contract.version not in (current.version, current.version + 1):
            raise ContractError(
                f"{contract.system}/{contract.stream}: the new contract is v{contract.version} but v{current.version} "
                "is in force; evolve the latest version and approve again"
            )
        written = contract.model_copy(update={"version": current.version + 1})
        filesystem, root = self.approved
        folder = _approved_folder(root, contract.system, contract.stream)
        path = f"{folder}/v{written.version}.toml"
        if filesystem.get_file_info(path).type != pafs.FileType.NotFound:
            raise ContractError(f"{path} exists already: another approval wrote v{written.version}; evolve it instead")
        filesystem.create_dir(folder, recursive=True)
        write_atomically(filesystem, path, written.to_toml().encode())
        self._loaded[(written.system, written.stream, written.version)] = written
        return written

    def _versions(self, system: str, stream: str) -> set[int]:
        versions = {int(m.group(1)) for path in (self.shipped / system / stream).glob("v*.toml")
                    if (m := _VERSION_FILE.match(path.name))}
        if self.approved is not None:
            filesystem, root = self.approved
            selector = pafs.FileSelector(_approved_folder(root, system, stream), allow_not_found=True)
            versions |= {int(m.group(1)) for info in filesystem.get_file_info(selector)
                         if (m := _VERSION_FILE.match(info.base_name))}
        return versions

    def _read(self, system: str, stream: str, version: int) -> Contract:
        """An approved file wins over a shipped one of the same version: it is what the warehouse used."""
        name = f"v{version}.toml"
        if self.approved is not None:
            filesystem, root = self.approved
            path = f"{_approved_folder(root, system, stream)}/{name}"
            if filesystem.get_file_info(path).type == pafs.FileType.File:
                with filesystem.open_input_stream(path) as source:
                    return _checked(Contract.from_toml(source.read().decode(), source=path), system, stream, version, path)
        path = self.shipped / system / stream / name
        if not path.is_file():
            raise ContractError(f"no contract {system}/{stream} v{version}: {path} does not exist")
        return _checked(Contract.from_toml(path.read_text(), source=str(path)), system, stream, version, str(path))


def _approved_folder(root: str, system: str, stream: str) -> str:
    return f"{root.rstrip('/')}/_contracts/{system}/{stream}"


def _checked(contract: Contract, system: str, stream: str, version: int, source: str) -> Contract:
    if (contract.system, contract.stream, contract.version) != (system, stream, version):
        raise ContractError(
            f"{source} says {contract.system}/{contract.stream} v{contract.version} but lies at "
            f"{system}/{stream} v{version}; fix its header or move it"
        )
    return contract
