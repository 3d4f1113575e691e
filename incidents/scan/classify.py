"""The incident classification of a Sigma rule that carries no `incident:` field (SigmaHQ's rules never do).

Taken from the rule's ATT&CK tags (technique first, then tactic), then its log source; anything
unknown is `other`. The mapping, documented in the README ("Rules from SigmaHQ"):

| ATT&CK | category | RSIT taxonomy / type |
|---|---|---|
| T1110 Brute Force (and sub-techniques) | intrusion | intrusion-attempts / brute-force |
| T1190, T1203, T1210, T1211, T1212, T1068 (exploitation) | intrusion | intrusion-attempts / exploit |
| T1505 Server Software Component (web shells), T1078 Valid Accounts | intrusion | intrusions / system-compromise |
| T1595, T1046, T1590-T1594 (scanning, discovery of the network) | scanning | information-gathering / scanner |
| T1498, T1499 (denial of service) | ddos | availability / ddos |
| T1566, T1598 (phishing) | phishing | fraud / phishing |
| T1491 Defacement | deface | information-content-security / unauthorised-information-modification |
| T1071, T1568, T1573, T1105, T1102, T1571, T1572 (command and control) | malware | malicious-code / infected-system |
| tactic reconnaissance or discovery | scanning | information-gathering / scanner |
| tactic command-and-control | malware | malicious-code / infected-system |
| tactic credential-access | intrusion | intrusion-attempts / brute-force |
| tactic initial-access | intrusion | intrusion-attempts / exploit |
| log source product suricata / category ids with no tag above | intrusion | intrusion-attempts / ids-alert |
| anything else | other | other / other |
"""

from __future__ import annotations

_TECHNIQUES = {
    "t1110": ("intrusion", "intrusion-attempts", "brute-force"),
    "t1190": ("intrusion", "intrusion-attempts", "exploit"),
    "t1203": ("intrusion", "intrusion-attempts", "exploit"),
    "t1210": ("intrusion", "intrusion-attempts", "exploit"),
    "t1211": ("intrusion", "intrusion-attempts", "exploit"),
    "t1212": ("intrusion", "intrusion-attempts", "exploit"),
    "t1068": ("intrusion", "intrusion-attempts", "exploit"),
    "t1505": ("intrusion", "intrusions", "system-compromise"),
    "t1078": ("intrusion", "intrusions", "system-compromise"),
    "t1595": ("scanning", "information-gathering", "scanner"),
    "t1046": ("scanning", "information-gathering", "scanner"),
    "t1590": ("scanning", "information-gathering", "scanner"),
    "t1591": ("scanning", "information-gathering", "scanner"),
    "t1592": ("scanning", "information-gathering", "scanner"),
    "t1593": ("scanning", "information-gathering", "scanner"),
    "t1594": ("scanning", "information-gathering", "scanner"),
    "t1498": ("ddos", "availability", "ddos"),
    "t1499": ("ddos", "availability", "ddos"),
    "t1566": ("phishing", "fraud", "phishing"),
    "t1598": ("phishing", "fraud", "phishing"),
    "t1491": ("deface", "information-content-security", "unauthorised-information-modification"),
    "t1071": ("malware", "malicious-code", "infected-system"),
    "t1568": ("malware", "malicious-code", "infected-system"),
    "t1573": ("malware", "malicious-code", "infected-system"),
    "t1105": ("malware", "malicious-code", "infected-system"),
    "t1102": ("malware", "malicious-code", "infected-system"),
    "t1571": ("malware", "malicious-code", "infected-system"),
    "t1572": ("malware", "malicious-code", "infected-system"),
}
_TACTICS = {
    "reconnaissance": ("scanning", "information-gathering", "scanner"),
    "discovery": ("scanning", "information-gathering", "scanner"),
    "command-and-control": ("malware", "malicious-code", "infected-system"),
    "command_and_control": ("malware", "malicious-code", "infected-system"),
    "credential-access": ("intrusion", "intrusion-attempts", "brute-force"),
    "credential_access": ("intrusion", "intrusion-attempts", "brute-force"),
    "initial-access": ("intrusion", "intrusion-attempts", "exploit"),
    "initial_access": ("intrusion", "intrusion-attempts", "exploit"),
}
OTHER = ("other", "other", "other")


def classify(tags, logsource=None) -> tuple[tuple[str, str, str], str]:
    """((category, RSIT taxonomy, RSIT type), why) for a rule without `incident:`.

    `tags`: the rule's tags as strings ('attack.t1110.001', 'attack.credential-access', ...);
    `logsource`: pySigma's SigmaLogSource or None. `why` says which tag or source decided.
    """
    names = [str(t).lower() for t in tags or ()]
    for tag in names:
        if tag.startswith("attack.t"):
            technique = tag.removeprefix("attack.").split(".")[0]
            if technique in _TECHNIQUES:
                return _TECHNIQUES[technique], f"ATT&CK tag {tag}"
    for tag in names:
        tactic = tag.removeprefix("attack.")
        if tag.startswith("attack.") and tactic in _TACTICS:
            return _TACTICS[tactic], f"ATT&CK tactic {tag}"
    if logsource is not None and (
        getattr(logsource, "product", None) == "suricata" or getattr(logsource, "category", None) == "ids"
    ):
        return ("intrusion", "intrusion-attempts", "ids-alert"), "log source (an IDS alert)"
    return OTHER, "no ATT&CK tag or log source this project maps"
