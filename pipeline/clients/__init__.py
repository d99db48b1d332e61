"""Every network client: the only code that speaks HTTP to another system, behind one small helper."""
