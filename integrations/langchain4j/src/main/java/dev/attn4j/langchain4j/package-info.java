/**
 * LangChain4j integration: all-MiniLM-L6-v2 with its forward pass on attn4j's kernels.
 */
package dev.attn4j.langchain4j;
