SELECT $$dollar; body$$ AS body /* comment */ -- and a line comment
