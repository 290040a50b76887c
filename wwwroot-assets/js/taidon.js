// Small browser helpers of Taidon's (served by the app).
window.taidon = {
    // A visitor's first edit or run: the server makes their guest account and sets its cookie on this
    // answer, and gives a pass that the workspace's circuit reads the account from.
    guestAccount: async function (path, header) {
        var headers = {};
        headers[header] = "1";
        try {
            var answer = await fetch(path, { method: "POST", headers: headers, credentials: "same-origin" });
            var body = await answer.json().catch(function () { return {}; });
            return answer.ok ? { pass: body.pass, problem: null } : { pass: null, problem: body.detail || ("The server answered " + answer.status + ".") };
        } catch (e) {
            return { pass: null, problem: "The server could not be reached (" + e.message + "); check the connection and try again." };
        }
    },

    // The theme is remembered in a cookie, so that the server renders the page in it from the start.
    setDarkTheme: function (dark) {
        document.cookie = "taidon.theme=" + (dark ? "dark" : "light") + "; path=/; max-age=31536000; samesite=lax";
    },

    // Unsaved edits: a copy in the browser until the server confirms the save, so that an edit typed while
    // the connection was lost is not lost with it. A copy is only put back over the text it was made from.
    unsavedPrefix: "taidon.unsaved:",
    unsavedKey: null,
    savedText: {},

    // Called when a script opens: watches its edits and returns an edit the server never saved (or null).
    watchUnsaved: function (editorId, key, serverText) {
        var t = window.taidon;
        var editor = blazorMonaco.editor.getEditor(editorId);
        t.unsavedKey = key;
        t.savedText[key] = serverText;
        if (!editor.taidonWatched) {
            editor.taidonWatched = true;
            editor.onDidChangeModelContent(function (e) {
                // A flush is the server setting the text (opening a script), not an edit.
                if (e.isFlush || !t.unsavedKey) {
                    return;
                }
                t.keep(t.unsavedKey, { text: editor.getValue(), base: t.savedText[t.unsavedKey] });
            });
        }

        var kept = t.kept(key);
        if (kept && kept.base === serverText && kept.text !== serverText) {
            return kept.text;
        }

        localStorage.removeItem(t.unsavedPrefix + key);
        return null;
    },

    // The server saved this text: the copy goes, or now counts from it.
    saved: function (key, text) {
        var t = window.taidon;
        t.savedText[key] = text;
        var kept = t.kept(key);
        if (!kept) {
            return;
        }
        if (kept.text === text) {
            localStorage.removeItem(t.unsavedPrefix + key);
        } else {
            kept.base = text;
            t.keep(key, kept);
        }
    },

    kept: function (key) {
        try {
            var raw = localStorage.getItem(window.taidon.unsavedPrefix + key);
            return raw ? JSON.parse(raw) : null;
        } catch (e) {
            return null;
        }
    },

    keep: function (key, value) {
        try {
            localStorage.setItem(window.taidon.unsavedPrefix + key, JSON.stringify(value));
        } catch (e) {
            // A full or disabled storage only loses the copy; the server still saves as usual.
        }
    },

    // Names from the instance's schema (tables, views, columns, functions), set after each run that changed it.
    completions: [],

    setCompletions: function (words) {
        window.taidon.completions = words || [];
    },

    keywords: ("ABORT ADD ALL ALTER ANALYZE AND ANY ARRAY AS ASC ASSERT BEGIN BETWEEN BIGINT BOOLEAN BY CASCADE CASE CAST " +
        "CHECK COALESCE COLLATE COLUMN COMMENT COMMIT CONCURRENTLY CONFLICT CONSTRAINT COPY COUNT CREATE CROSS CUBE " +
        "CURRENT_DATE CURRENT_TIMESTAMP DATE DEFAULT DEFERRABLE DELETE DESC DISTINCT DO DOUBLE DROP ELSE END EXCEPT " +
        "EXECUTE EXISTS EXPLAIN EXTRACT FALSE FETCH FILTER FIRST FOREIGN FROM FULL FUNCTION GENERATED GRANT GROUP " +
        "GROUPING HAVING IF ILIKE IN INDEX INNER INSERT INTEGER INTERSECT INTERVAL INTO IS JOIN JSONB KEY LANGUAGE LAST " +
        "LATERAL LEFT LIKE LIMIT LOCAL MATERIALIZED NATURAL NOT NOTHING NULL NULLIF NULLS NUMERIC OFFSET ON ONLY OR ORDER " +
        "OUTER OVER PARTITION PERFORM PRIMARY PROCEDURE RAISE RANGE RECURSIVE REFERENCES REFRESH RENAME REPLACE RETURN " +
        "RETURNING RETURNS RIGHT ROLLBACK ROLLUP ROW ROWS SAVEPOINT SCHEMA SELECT SEQUENCE SERIAL SET SETS SMALLINT " +
        "TABLE TEMPORARY TEXT THEN TIMESTAMP TIMESTAMPTZ TO TRANSACTION TRIGGER TRUE TRUNCATE TYPE UNION UNIQUE UPDATE " +
        "USING VACUUM VALUES VARCHAR VIEW WHEN WHERE WINDOW WITH").split(" "),

    // One completion provider for PostgreSQL: the schema's names first, then keywords.
    registerCompletion: function () {
        if (window.taidon.completionRegistered || !window.monaco) {
            return;
        }

        window.taidon.completionRegistered = true;
        monaco.languages.registerCompletionItemProvider("pgsql", {
            provideCompletionItems: function (model, position) {
                var word = model.getWordUntilPosition(position);
                var range = {
                    startLineNumber: position.lineNumber,
                    endLineNumber: position.lineNumber,
                    startColumn: word.startColumn,
                    endColumn: word.endColumn,
                };
                var kinds = monaco.languages.CompletionItemKind;
                var kindOf = {
                    schema: kinds.Module, table: kinds.Class, view: kinds.Interface,
                    column: kinds.Field, "function": kinds.Function,
                };
                var suggestions = window.taidon.completions.map(function (w) {
                    return { label: w.label, insertText: w.insert, kind: kindOf[w.kind], detail: w.detail, range: range, sortText: "1" + w.label };
                });
                window.taidon.keywords.forEach(function (k) {
                    suggestions.push({ label: k, insertText: k, kind: kinds.Keyword, detail: "keyword", range: range, sortText: "2" + k });
                });
                return { suggestions: suggestions };
            },
        });
    },
};
