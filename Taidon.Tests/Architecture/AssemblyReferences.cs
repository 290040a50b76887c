using Mono.Cecil;

namespace Taidon.Tests.Architecture;

/// <summary>
/// Every type an assembly's types use from another assembly, read from the compiled IL: signatures,
/// attributes, locals and method bodies (calls, fields, casts, generic arguments), so that a reference
/// hidden in a lambda, an async state machine or a Razor component's render tree counts too.
/// </summary>
internal static class AssemblyReferences
{
    /// <summary>(the outermost type that uses it, the type used) for each type of <paramref name="target"/> used in <paramref name="assemblyPath"/>.</summary>
    public static IReadOnlyList<(string User, string Used)> UsesOf(string assemblyPath, string target)
    {
        using var module = ModuleDefinition.ReadModule(assemblyPath);
        var uses = new HashSet<(string, string)>();
        foreach (var type in module.GetTypes())
        {
            var user = Outermost(type).FullName;
            foreach (var used in TypesUsedBy(type))
            {
                foreach (var name in Named(used, target))
                {
                    uses.Add((user, name));
                }
            }
        }

        return [.. uses.OrderBy(u => u.Item1, StringComparer.Ordinal).ThenBy(u => u.Item2, StringComparer.Ordinal)];
    }

    private static TypeDefinition Outermost(TypeDefinition type) => type.DeclaringType is { } outer ? Outermost(outer) : type;

    private static IEnumerable<TypeReference> TypesUsedBy(TypeDefinition type)
    {
        if (type.BaseType is { } baseType)
        {
            yield return baseType;
        }

        foreach (var i in type.Interfaces)
        {
            yield return i.InterfaceType;
        }

        foreach (var a in Attributes(type))
        {
            yield return a;
        }

        foreach (var field in type.Fields)
        {
            yield return field.FieldType;
            foreach (var a in Attributes(field))
            {
                yield return a;
            }
        }

        foreach (var property in type.Properties)
        {
            yield return property.PropertyType;
            foreach (var a in Attributes(property))
            {
                yield return a;
            }
        }

        foreach (var method in type.Methods)
        {
            foreach (var used in Signature(method))
            {
                yield return used;
            }

            foreach (var a in Attributes(method))
            {
                yield return a;
            }

            if (!method.HasBody)
            {
                continue;
            }

            foreach (var local in method.Body.Variables)
            {
                yield return local.VariableType;
            }

            foreach (var instruction in method.Body.Instructions)
            {
                switch (instruction.Operand)
                {
                    case TypeReference t:
                        yield return t;
                        break;
                    case MethodReference m:
                        foreach (var used in Signature(m))
                        {
                            yield return used;
                        }

                        break;
                    case FieldReference f:
                        yield return f.DeclaringType;
                        yield return f.FieldType;
                        break;
                }
            }
        }
    }

    private static IEnumerable<TypeReference> Signature(MethodReference method)
    {
        yield return method.DeclaringType;
        yield return method.ReturnType;
        foreach (var p in method.Parameters)
        {
            yield return p.ParameterType;
        }

        if (method is GenericInstanceMethod generic)
        {
            foreach (var argument in generic.GenericArguments)
            {
                yield return argument;
            }
        }
    }

    private static IEnumerable<TypeReference> Attributes(ICustomAttributeProvider provider) =>
        provider.CustomAttributes.SelectMany(a => Signature(a.Constructor).Concat(a.ConstructorArguments.Select(c => c.Type)));

    /// <summary>The full names of the types of <paramref name="target"/> in a reference (generic arguments, arrays and pointers opened up).</summary>
    private static IEnumerable<string> Named(TypeReference reference, string target)
    {
        switch (reference)
        {
            case GenericInstanceType generic:
                foreach (var name in Named(generic.ElementType, target).Concat(generic.GenericArguments.SelectMany(a => Named(a, target))))
                {
                    yield return name;
                }

                yield break;
            case TypeSpecification specification:
                foreach (var name in Named(specification.ElementType, target))
                {
                    yield return name;
                }

                yield break;
            case GenericParameter:
                yield break;
        }

        var scope = reference.Scope switch
        {
            AssemblyNameReference assembly => assembly.Name,
            ModuleDefinition module => module.Assembly.Name.Name,
            _ => null,
        };
        if (scope == target)
        {
            yield return (reference.DeclaringType is { } outer ? outer.FullName + "/" : reference.Namespace + ".") + reference.Name;
        }
    }
}
