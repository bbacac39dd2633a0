# --- the byte budget: a message never longer than the collector takes -------------------
# A collector cuts a longer message and reads the rest as more messages (a stock rsyslog
# at 8096 bytes), while the hook, which gets no answer over syslog, says "sent". So the
# message is measured whole, as the collector counts it (UTF-8, after escaping), and the
# free text in it is cut until it fits.


def fit(build, free, escape, budget, caps=None):
    """The message build(values, cut) makes, encoded, in at most ``budget`` bytes.

    free: {key: text} the values that may be cut (the input, the output, names, lists),
      as the hook would send them before escaping
    escape: the format's escaping of one character: a value is cut between characters,
      so never inside an escape sequence nor inside a character's UTF-8 bytes
    caps: {key: characters} the longest value a key may hold (the format's own limits)
    build(values, cut): the whole message with these values, and a note of the keys cut,
      {key: its full length in characters}
    The keys that do not fit share what the rest of the message leaves, equally; a value
    shorter than its share leaves what it does not use to the others. When even empty
    values do not fit the budget, the hook ends in one line.
    """
    caps = caps or {}
    whole = {key: text[: caps.get(key, len(text))] for key, text in free.items()}
    costs = {key: [len(escape(char).encode()) for char in text] for key, text in whole.items()}
    sizes = {key: sum(cost) for key, cost in costs.items()}
    values = whole
    message = build(values, cut_keys(free, values)).encode()
    allowance = sum(sizes.values())  # the bytes the free text may take, escaped
    while len(message) > budget:
        allowance -= len(message) - budget
        if allowance < 0:
            fail(f"the event does not fit in SYSLOG_MAX_BYTES={budget}, even with its text cut")
        limits = shares(sizes, allowance)
        values = {key: prefix(text, costs[key], limits[key]) for key, text in whole.items()}
        message = build(values, cut_keys(free, values)).encode()
    return message


def cut_keys(free, values):
    """{key: full length in characters} of the values shorter than they came."""
    return {key: len(text) for key, text in free.items() if len(values[key]) < len(text)}


def shares(sizes, allowance):
    """Each key's byte limit: an equal share of ``allowance``, smallest value first, what
    a value does not use going to the values after it."""
    limits = {}
    ordered = sorted(sizes, key=sizes.get)
    for index, key in enumerate(ordered):
        limits[key] = min(sizes[key], allowance // (len(ordered) - index))
        allowance -= limits[key]
    return limits


def prefix(text, costs, limit):
    """The longest start of ``text`` whose characters take at most ``limit`` bytes."""
    total = 0
    for index, cost in enumerate(costs):
        total += cost
        if total > limit:
            return text[:index]
    return text
