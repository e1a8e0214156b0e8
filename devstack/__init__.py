"""The embedded dev stack: the whole ID call on one machine, no AWS account (see devstack/stack.py)."""

from devstack.stack import DevStack, IrmaSetup

__all__ = ["DevStack", "IrmaSetup"]
