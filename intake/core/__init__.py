"""The pure core: reading lists and mail, the rules, decisions and reply content.

Nothing here touches a database, the network or another process.
"""
