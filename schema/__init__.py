"""The GraphQL schema: Strawberry types are thin views over what resolvers return."""
