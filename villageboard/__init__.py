"""villageboard — 村务公开栏工具包.

An offline kit for a township office: subsidy applications and payouts, village
notice posters with verifiable QR codes, the archive, and the phone desk.
"""

__version__ = "0.1.0"
