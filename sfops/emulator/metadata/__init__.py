"""The emulator's Metadata API: SOAP (/services/Soap/m/NN.0) and REST deployRequest.

Entry point: ``MetadataService(host)`` with ``handle_soap`` and ``handle_rest``; ``host`` implements
:class:`sfops.emulator.metadata.host.MetadataHost`.
"""

from sfops.emulator.metadata.host import DeployFaults, MdUser, MetadataHost
from sfops.emulator.metadata.service import MetadataService

__all__ = ["DeployFaults", "MdUser", "MetadataHost", "MetadataService"]
